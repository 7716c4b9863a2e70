"""One short recipe per stage: each wires a TRL trainer to the vertical's data and writes a checkpoint.

Every recipe exposes ``train(ctx: StageContext) -> model`` and imports no other recipe.
"""

STAGES = ("cpt", "sft", "rlvr", "rm", "rlhf", "dpo")


def recipe(stage: str):
    """The recipe module for ``stage`` (imported lazily: TRL is heavy)."""
    import importlib

    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    return importlib.import_module(f"core_training.recipes.{'reward_model' if stage == 'rm' else stage}")

"""Experiment: rlhf with the simulated panel's own score as the reward, instead of the trained reward model.

Answers "is the reward model what limits rlhf?": if even the score the RM is trained to imitate does not
move the judge, the RM is not the bottleneck. Used for the README's "five experiments" table.

    cp -r RUN /tmp/oracle && rm -rf /tmp/oracle/rlhf /tmp/oracle/.work/rlhf-*
    .venv/bin/python docs/experiments/oracle_rlhf.py run gaokao --output /tmp/oracle [rlhf.learning_rate=6e-5]

The finished stages (cpt ... rm) are skipped; rlhf reruns with the panel (rules + rubric, as in
``verticals.gaokao.rubric.panel_score``) in the reward model's place, still rule-gated.
"""

import sys

import core_training.recipes.rlhf as rlhf
from core_training.cli import main
from core_training.rewards import _rows_from_columns, completion_text
from verticals.gaokao.rubric import panel_score
from verticals.gaokao.rules import RULES


class PanelReward:
    """A TRL reward function: the panel's score of each completion."""

    __name__ = "panel"

    def __call__(self, completions, prompts=None, **columns):
        rows = _rows_from_columns(len(completions), prompts, columns)
        return [panel_score(completion_text(c), row, RULES) for c, row in zip(completions, rows)]


def _with_panel(trainer_cls):
    def make(*args, reward_funcs, reward_processing_classes, **kwargs):
        return trainer_cls(*args, reward_funcs=[PanelReward(), *reward_funcs[1:]],
                           reward_processing_classes=[None, *reward_processing_classes[1:]], **kwargs)
    return make


if __name__ == "__main__":
    rlhf.RuleGatedGRPOTrainer = _with_panel(rlhf.RuleGatedGRPOTrainer)
    sys.exit(main(sys.argv[1:]))

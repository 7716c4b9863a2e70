"""The expert annotation workspace: annotators label answer pairs, admins build tasks and export them.

Run::

    python -m apps.store --db sqlite:///annotations.db add-user admin --role admin
    streamlit run apps/annotate.py -- --db sqlite:///annotations.db [--export-dir exports] [--session-hours 8]

``--db`` (or ``VKIT_ANNOTATE_DB``) is any URL :meth:`apps.store.Store.open` takes. Annotators see only
their own assignments (``?assignment=ID`` deep-links to one): they pick the better answer or a tie,
score both answers on the vertical's rubric and may write a correction. Admins create tasks from
corrected feedback or from two stages' samples of a run, assign them with overlap ``k``, follow
progress and agreement, and export the preference and correction datasets. All state lives in the
store; this file only draws it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from datetime import timedelta
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # `streamlit run apps/annotate.py` puts apps/, not the repo, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.agreement import agreement_report  # noqa: E402
from apps.export import export_corrections, export_preferences  # noqa: E402
from apps.ratelimit import LoginLimiter  # noqa: E402
from apps.store import DEFAULT_URL, Assignment, Store, User, pairs_from_run  # noqa: E402
from apps.store_schema import ROLES  # noqa: E402

FALLBACK_DIMENSIONS = ("overall",)
PREFERENCE_LABELS = {"a": "A is better", "b": "B is better", "tie": "Tie"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="vkit annotation app")
    parser.add_argument("--db", default=os.environ.get("VKIT_ANNOTATE_DB", DEFAULT_URL))
    parser.add_argument("--export-dir", default=os.environ.get("VKIT_ANNOTATE_EXPORT_DIR", "exports"))
    parser.add_argument("--session-hours", type=float, default=float(os.environ.get("VKIT_ANNOTATE_SESSION_HOURS", 8)))
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return args


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    return Store.open(url)


@st.cache_resource(show_spinner=False, ttl=600)
def rubric_dimensions(vertical: str) -> tuple[tuple[str, ...], str | None]:
    """The vertical's rubric dimensions, or a single ``overall`` and the reason it could not load."""
    try:
        from core_training.registry import get_vertical

        dims = tuple(get_vertical(vertical).rubric_dimensions)
        return (dims, None) if dims else (FALLBACK_DIMENSIONS, f"vertical {vertical!r} declares no rubric")
    except Exception as exc:  # noqa: BLE001 - a broken vertical must not block annotation
        return FALLBACK_DIMENSIONS, f"{type(exc).__name__}: {exc}"


def vertical_names(store: Store) -> list[str]:
    names = {t.vertical for t in store.tasks()} | {f.vertical for f in store.feedback()}
    try:
        from core_training.registry import list_verticals

        names |= {info.name for info in list_verticals()}
    except Exception:  # noqa: BLE001 - the store's own verticals are still listed
        pass
    return sorted(names)


# --------------------------------------------------------------------------- login and session


def current_user(store: Store) -> User | None:
    token = st.session_state.get("token")
    if token is None:
        return None
    session = store.get_session(token)
    if session is None:
        del st.session_state["token"]
        st.session_state["notice"] = "Your session has expired. Please log in again."
        return None
    return session.user


def login_form(store: Store, ttl: timedelta) -> None:
    st.title("vkit annotation")
    if notice := st.session_state.pop("notice", None):
        st.warning(notice)
    with st.form("login"):
        username = st.text_input("Username", key="login_username")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", key="login_submit")
    if submitted:
        keys = (f"user:{username.strip().lower()}", f"client:{client_address()}")
        limiter = login_limiter()
        if (wait := limiter.wait(*keys)) > 0:  # refused before the password is even checked
            st.error(f"Too many failed logins. Try again in {math.ceil(wait)} s.")
            return
        user = store.authenticate(username.strip(), password)
        if user is None:
            limiter.failed(*keys)
            st.error("Wrong username or password.")
            return
        limiter.succeeded(keys[0])
        st.session_state["token"] = store.create_session(user.username, ttl)
        st.rerun()


@st.cache_resource
def login_limiter() -> LoginLimiter:
    """One limiter for every session this server serves (the script itself reruns on each click)."""
    return LoginLimiter()


def client_address() -> str:
    """The client's address as Streamlit sees it (a proxy's, behind one); "unknown" when not known."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - e.g. no request context
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"


def sidebar(store: Store, user: User) -> None:
    st.sidebar.write(f"Logged in as **{user.username}** ({user.role})")
    if st.sidebar.button("Log out", key="logout"):
        store.end_session(st.session_state.pop("token"))
        st.rerun()


# --------------------------------------------------------------------------- annotator


def annotator_view(store: Store, user: User) -> None:
    if saved := st.session_state.pop("saved", None):
        st.success(saved)
    requested = st.query_params.get("assignment")
    if requested:
        try:
            assignment = store.get_assignment(user.username, int(requested))
        except PermissionError:
            st.error(f"Assignment {requested} is not assigned to you.")
            return
        except (KeyError, ValueError):
            st.error(f"There is no assignment {requested}.")
            return
        annotation_form(store, user, assignment)
        return
    mine = {a.id: a for a in store.assignments_for(user.username)}  # unfinished first
    st.title("My assignments")
    if not mine:
        st.info("You have no assignments yet.")
        return
    done = sum(a.done for a in mine.values())
    st.progress(done / len(mine), text=f"{done} of {len(mine)} done")
    chosen = st.selectbox("Assignment", list(mine), key="assignment_pick", format_func=lambda i: (
        f"#{i} · {mine[i].task.vertical} · {'done' if mine[i].done else 'to do'}"))
    annotation_form(store, user, mine[chosen])


def annotation_form(store: Store, user: User, assignment: Assignment) -> None:
    task, previous = assignment.task, assignment.annotation
    st.subheader(f"Assignment #{assignment.id} · {task.vertical}")
    if task.guidelines:
        st.info(task.guidelines)
    if task.context:
        with st.expander("Facts the advisor was given"):
            st.text(task.context)
    for message in task.messages:
        st.chat_message(message["role"]).write(message["content"])
    for column, side in zip(st.columns(2), ("a", "b")):
        column.markdown(f"**Answer {side.upper()}**")
        column.write(getattr(task, f"answer_{side}"))
    dims, problem = rubric_dimensions(task.vertical)
    if problem:
        st.warning(f"Could not load the {task.vertical} rubric ({problem}); scoring 'overall' only.")
    key = f"a{assignment.id}"
    with st.form(f"annotate-{key}"):
        preference = st.radio("Which answer is better?", list(PREFERENCE_LABELS), format_func=PREFERENCE_LABELS.get,
                              index=list(PREFERENCE_LABELS).index(previous.preference) if previous else 2,
                              horizontal=True, key=f"{key}-preference")
        rubric = {}
        for column, side in zip(st.columns(2), ("a", "b")):
            column.markdown(f"Rubric for answer {side.upper()}")
            old = previous.rubric.get(side, {}) if previous else {}
            rubric[side] = {d: column.slider(d, 0.0, 1.0, float(old.get(d, 0.5)), 0.25, key=f"{key}-{side}-{d}")
                            for d in dims}
        correction = st.text_area("Correction (optional): the answer as it should be",
                                  value=previous.correction if previous else "", key=f"{key}-correction")
        submitted = st.form_submit_button("Submit", key=f"{key}-submit")
    if submitted:
        saved = store.submit_annotation(user.username, assignment.id, preference, rubric, correction)
        st.session_state["saved"] = f"Saved assignment #{assignment.id}" + (
            f" (revision {saved.revision})." if saved.revision else ".")
        st.session_state.pop("assignment_pick", None)  # the list re-opens on the next unfinished assignment
        st.rerun()
    if previous:
        st.caption(f"Submitted {previous.updated_at:%Y-%m-%d %H:%M} UTC; submitting again replaces it.")


# --------------------------------------------------------------------------- admin


def admin_view(store: Store, args: argparse.Namespace) -> None:
    st.title("Annotation admin")
    verticals = vertical_names(store)
    tabs = st.tabs(["Tasks", "Assign", "Progress", "Agreement", "Export", "Users"])
    with tabs[0]:
        tasks_tab(store, verticals)
    with tabs[1]:
        assign_tab(store, verticals)
    with tabs[2]:
        st.table([{"annotator": p.annotator, "assigned": p.assigned, "done": p.done, "remaining": p.remaining}
                  for p in store.progress()])
    with tabs[3]:
        agreement_tab(store, verticals)
    with tabs[4]:
        export_tab(store, verticals, Path(args.export_dir))
    with tabs[5]:
        users_tab(store)


def tasks_tab(store: Store, verticals: list[str]) -> None:
    st.caption(f"{len(store.tasks())} tasks in the store")
    guidelines = st.text_area("Guidelines shown with new tasks", key="task_guidelines")
    st.subheader("From corrected feedback")
    vertical = st.selectbox("Vertical", ["(all)", *verticals], key="feedback_vertical")
    if st.button("Create tasks from feedback", key="tasks_from_feedback"):
        made = store.create_tasks_from_feedback(None if vertical == "(all)" else vertical, guidelines=guidelines)
        st.success(f"Created {len(made)} task(s).")
    st.subheader("From a run's samples (stage A vs stage B)")
    run_vertical = st.selectbox("Vertical", verticals, key="run_vertical")
    run_dir = st.text_input("Run directory", key="run_dir")
    stage_a = st.text_input("Stage A", "sft", key="run_stage_a")
    stage_b = st.text_input("Stage B", "rlhf", key="run_stage_b")
    mode = st.selectbox("Prompt mode", ["grounded", "closed_book"], key="run_mode")
    if st.button("Create tasks from samples", key="tasks_from_samples"):
        try:
            made = tasks_from_run(store, run_vertical, run_dir, stage_a, stage_b, mode, guidelines)
        except Exception as exc:  # noqa: BLE001 - shown to the admin, nothing was written
            st.error(f"Could not create tasks: {type(exc).__name__}: {exc}")
        else:
            st.success(f"Created {len(made)} task(s).")


def tasks_from_run(store: Store, vertical_name: str, run_dir: str, stage_a: str, stage_b: str, mode: str,
                   guidelines: str) -> list[int]:
    from core_training.data import user_text
    from core_training.registry import get_vertical

    vertical = get_vertical(vertical_name)
    context = (lambda msgs: vertical.retrieve(user_text(msgs))) if mode == "grounded" else None
    pairs = pairs_from_run(run_dir, stage_a, stage_b, vertical.load_eval_set(), mode, context)
    return store.create_tasks_from_samples(vertical.name, pairs, source=f"run:{run_dir}", guidelines=guidelines)


def assign_tab(store: Store, verticals: list[str]) -> None:
    annotators = [u.username for u in store.users("annotator")]
    if not annotators:
        st.info("Create annotator accounts first (Users tab).")
        return
    vertical = st.selectbox("Vertical", ["(all)", *verticals], key="assign_vertical")
    chosen = st.multiselect("Annotators", annotators, default=annotators, key="assign_annotators")
    k = st.number_input("Annotators per task (k)", 1, max(1, len(chosen)), min(3, max(1, len(chosen))), key="assign_k")
    if st.button("Assign", key="assign"):
        tasks = [t.id for t in store.tasks(None if vertical == "(all)" else vertical)]
        try:
            added = store.assign(tasks, chosen, int(k))
        except (ValueError, KeyError) as exc:
            st.error(str(exc))
        else:
            st.success(f"Added {added} assignment(s) over {len(tasks)} task(s).")


def agreement_tab(store: Store, verticals: list[str]) -> None:
    vertical = st.selectbox("Vertical", verticals, key="agreement_vertical")
    if vertical is None:
        return
    report = agreement_report(store.labelled_tasks(vertical))
    st.metric("Cohen's kappa on preferences (mean over annotator pairs)", _fmt(report["kappa"]))
    st.caption(f"{report['items']} task(s) with 2+ annotations; {report['kappa_pairs']} annotator pair(s)")
    st.table([{"dimension": d, "Krippendorff's alpha (interval)": _fmt(a)} for d, a in report["alpha"].items()])


def export_tab(store: Store, verticals: list[str], export_dir: Path) -> None:
    vertical = st.selectbox("Vertical", verticals, key="export_vertical")
    out_dir = Path(st.text_input("Export directory", str(export_dir), key="export_dir"))
    if st.button("Export", key="export") and vertical is not None:
        prefs = export_preferences(store, vertical, out_dir / f"{vertical}-preferences.jsonl")
        fixes = export_corrections(store, vertical, out_dir / f"{vertical}-corrections.jsonl")
        for result in (prefs, fixes):
            st.success(f"Wrote {result.rows} row(s) to {result.path} (card: {result.card_path.name}); {result.counts}")
            st.download_button(f"Download {result.path.name}", result.path.read_bytes(), result.path.name,
                               key=f"download-{result.path.name}")


def users_tab(store: Store) -> None:
    with st.form("new_user", clear_on_submit=True):
        username = st.text_input("Username", key="new_username")
        password = st.text_input("Password", type="password", key="new_password")
        role = st.selectbox("Role", ROLES, key="new_role")
        created = st.form_submit_button("Create user", key="new_user_submit")
    if created:
        try:
            store.create_user(username.strip(), password, role)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.success(f"Created {role} {username!r}.")
    st.table([{"username": u.username, "role": u.role, "kind": u.kind} for u in store.users()])


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def main() -> None:
    args = parse_args()
    st.set_page_config(page_title="vkit annotation", layout="wide")
    store = open_store(args.db)
    user = current_user(store)
    if user is None:
        login_form(store, timedelta(hours=args.session_hours))
        return
    sidebar(store, user)
    if user.role == "admin":
        admin_view(store, args)
    else:
        annotator_view(store, user)


if __name__ == "__main__":
    main()

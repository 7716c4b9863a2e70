"""Generic JSON I/O for networkx knowledge graphs (node-link format, UTF-8, readable Chinese).

Every vertical stores its graph the same way, so one pair of functions serves all of them::

    from knowledge_graphs.io import save_graph, load_graph
    save_graph(graph, "runs/kg/gaokao.json")
    graph = load_graph("runs/kg/gaokao.json")

Attributes must be JSON values (use lists, not tuples: tuples come back as lists).

>>> import networkx as nx, tempfile, os
>>> g = nx.MultiDiGraph()
>>> g.add_edge("省:广东", "表:2025", key="2025:物理类", rank=12345)
'2025:物理类'
>>> path = os.path.join(tempfile.mkdtemp(), "g.json")
>>> _ = save_graph(g, path)
>>> h = load_graph(path)
>>> h.is_multigraph(), h.edges["省:广东", "表:2025", "2025:物理类"]["rank"]
(True, 12345)
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from core_training.contract import DataError


def graph_to_json(graph: nx.Graph) -> str:
    """Serialise ``graph`` to node-link JSON text (non-ASCII kept as is)."""
    data = nx.node_link_data(graph, edges="edges")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def graph_from_json(text: str) -> nx.Graph:
    """Rebuild a graph from :func:`graph_to_json` text; directedness and multi-edges are preserved."""
    return nx.node_link_graph(json.loads(text), edges="edges")


def save_graph(graph: nx.Graph, path: str | Path) -> Path:
    """Write ``graph`` as node-link JSON to ``path`` (parent folders are created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(graph_to_json(graph), encoding="utf-8")
    return path


class GraphFileError(DataError):
    """A graph file is missing, not UTF-8, not JSON or not a node-link graph; the message names it."""


def load_graph(path: str | Path) -> nx.Graph:
    """Read a graph written by :func:`save_graph`.

    Raises:
        GraphFileError: one line naming the file (and the line of a JSON error).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read the graph ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise GraphFileError(f"{path}: the graph is not UTF-8 JSON (binary?)") from None
    try:
        return graph_from_json(text)
    except json.JSONDecodeError as err:
        raise GraphFileError(f"{path}:{err.lineno}: the graph is not valid JSON ({err.msg}; truncated?)") from None
    except (KeyError, TypeError, AttributeError, nx.NetworkXError) as err:
        raise GraphFileError(f"{path}: not a node-link graph ({type(err).__name__}: {err})") from None

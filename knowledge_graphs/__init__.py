"""Knowledge graphs (networkx) for the verticals: generators, importers from real tables, and I/O."""

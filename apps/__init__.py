"""Streamlit apps: the advisor per vertical and the expert annotation workspace."""

"""The dashboard: the Streamlit entrypoint (streamlit_app.py), its pages (app_pages/) and the
modules they share (lib/: warehouse queries, formatting, the decision pack and paper invoice)."""

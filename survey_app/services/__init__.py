"""Plain functions between the views/CLI and the models: no request, no g."""

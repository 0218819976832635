"""Counter kiosks: a tablet at the counter that shows the questionnaire for the dossier just
handed back. It is paired with a unit by a one-time code and holds no staff session."""

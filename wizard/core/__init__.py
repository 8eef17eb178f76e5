"""The engine of migration-wizard. Nothing here imports Textual: the headless CLI and the terminal
wizard both drive it, and it stays usable from scripts and CI."""

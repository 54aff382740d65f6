"""Built-in scenario presets (TOML), installed as the package ``siting.presets``."""

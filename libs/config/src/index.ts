export { SETTINGS, type Setting, type TaskorchConfig } from "./settings.js";
export { loadConfig, renderConfigTable, redactUrlSecrets, ConfigError } from "./load-config.js";

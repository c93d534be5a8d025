export { SETTINGS, type Setting, type TaskorchConfig } from "./settings.js";
export { loadConfig, renderConfigTable, ConfigError } from "./load-config.js";

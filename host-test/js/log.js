// The `ipaas:connector/log` import: lines are kept for the tests to inspect.
export const lines = [];

export function log(level, message) {
  lines.push({ level, message });
}

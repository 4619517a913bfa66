// The headers that version report.json and environment.json, as `format`/`version` version plans. The files' shapes
// are their schemas' (src/contracts/).

export const REPORT_HEADER = { format: 'tlr-report', version: 1 } as const;
export const ENVIRONMENT_HEADER = { format: 'tlr-environment', version: 1 } as const;

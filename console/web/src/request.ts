// Building a debug request from an API definition.

/** Parses "Name: value" lines (blank lines and lines without a colon are skipped). */
export function parseHeaders(text: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    out.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
  }
  return out;
}

/**
 * The request path of an API: its req_uri with each {param} replaced by the
 * parameter's sample or default value, or "1" (a {param+} keeps its slash).
 */
export function requestPath(reqUri: string, params: { name: string; location: string; sampleValue?: string; defaultValue?: string }[]): string {
  return reqUri.replace(/\{([^}+]+)(\+?)\}/g, (_, name: string) => {
    const p = params.find((x) => x.name === name && x.location === "PATH");
    return encodeURIComponent(p?.sampleValue || p?.defaultValue || "1");
  });
}

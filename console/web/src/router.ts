// Hash routes: #/page, #/page/id, #/apis/new, #/publish/<api id>.
export interface Route {
  page: string;
  id?: string;
}

export function route(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "overview" };
  if (parts[0] === "apis" && parts[1]) return { page: "api", id: parts[1] === "new" ? undefined : parts[1] };
  return { page: parts[0], id: parts[1] };
}

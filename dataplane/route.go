package dataplane

// StageHeader selects a non-RELEASE environment
// (docs/apig-semantics.md#environments): the routes of an API in another
// environment match on it.
const StageHeader = "x-stage"

package dataplane

// StageHeader selects a non-RELEASE environment (spec §1.4): the routes of
// an API in another environment match on it.
const StageHeader = "x-stage"

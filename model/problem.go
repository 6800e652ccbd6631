package model

// APIProblem is a published API that the data plane leaves out, with why.
// The translator reports them; the admin API's GetStatus lists them.
type APIProblem struct {
	Instance, APIID, EnvID, Reason string
}

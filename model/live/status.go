package live

import (
	"sort"
	"sync"
	"time"

	"github.com/apigw/apigw/model"
)

// NodeStatus is what an Envoy node last acknowledged or rejected.
type NodeStatus struct {
	NodeID, Cluster, TypeURL, AckedVersion, LastNack string
	LastSeen                                         time.Time
}

// Status collects what components report about the definitions they serve,
// for the admin API's GetStatus. It is safe for concurrent use.
type Status struct {
	mu       sync.Mutex
	problems map[string][]model.APIProblem // by instance
	nodes    map[string]NodeStatus         // by node id + type URL
}

// NewStatus returns an empty status registry.
func NewStatus() *Status {
	return &Status{problems: map[string][]model.APIProblem{}, nodes: map[string]NodeStatus{}}
}

// SetAPIProblems replaces the problems reported for an instance.
func (s *Status) SetAPIProblems(instance string, ps []model.APIProblem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems[instance] = append([]model.APIProblem(nil), ps...)
}

// APIProblems returns the problems of an instance.
func (s *Status) APIProblems(instance string) []model.APIProblem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]model.APIProblem(nil), s.problems[instance]...)
}

// UpdateNode records the state of a node for one resource type.
func (s *Status) UpdateNode(n NodeStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[n.NodeID+"|"+n.TypeURL] = n
}

// RemoveNode forgets a node (its stream ended).
func (s *Status) RemoveNode(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range s.nodes {
		if n.NodeID == nodeID {
			delete(s.nodes, k)
		}
	}
}

// Nodes returns the nodes of an instance ("" for all), sorted.
func (s *Status) Nodes(cluster string) []NodeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NodeStatus
	for _, n := range s.nodes {
		if cluster == "" || n.Cluster == cluster {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NodeID != out[j].NodeID {
			return out[i].NodeID < out[j].NodeID
		}
		return out[i].TypeURL < out[j].TypeURL
	})
	return out
}

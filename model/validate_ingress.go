package model

import (
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// Custom inbound ports: 1024-49151 (APIG's range); an instance declares at
// most MaxIngressPorts of them.
const (
	MinIngressPort  = 1024
	MaxIngressPort  = 49151
	MaxIngressPorts = 50
)

// validateIngressPorts checks an instance's custom inbound ports: a
// protocol, a port in range, each port once.
func validateIngressPorts(c checker, ports []*apigwv1.IngressPort) {
	if len(ports) > MaxIngressPorts {
		c.add("ingress_ports", "at most %d ports (got %d)", MaxIngressPorts, len(ports))
	}
	seen := map[int32]bool{}
	for i, p := range ports {
		pc := c.idx("ingress_ports", i)
		pc.oneOf("protocol", p.Protocol, ProtoHTTP, ProtoHTTPS)
		if p.Port < MinIngressPort || p.Port > MaxIngressPort {
			pc.add("port", "must be %d-%d (got %d)", MinIngressPort, MaxIngressPort, p.Port)
		}
		if seen[p.Port] {
			pc.add("port", "%d is declared twice", p.Port)
		}
		seen[p.Port] = true
	}
}

// IngressProtocol returns the protocol of a declared custom inbound port
// ("" when the instance does not declare it).
func IngressProtocol(cfg *apigwv1.InstanceConfig, port int32) string {
	for _, p := range cfg.GetIngressPorts() {
		if p.Port == port {
			return p.Protocol
		}
	}
	return ""
}

// portUse is a domain's binding to a custom inbound port.
type portUse struct {
	field, proto string
	port         int32
}

// domainPortUses lists the custom inbound ports a domain is bound to.
func domainPortUses(d *apigwv1.UrlDomain) []portUse {
	var out []portUse
	if d.IngressHttpPort > 0 {
		out = append(out, portUse{"ingress_http_port", ProtoHTTP, d.IngressHttpPort})
	}
	if d.IngressHttpsPort > 0 {
		out = append(out, portUse{"ingress_https_port", ProtoHTTPS, d.IngressHttpsPort})
	}
	return out
}

// checkIngressPorts verifies that a group's domains use only custom
// inbound ports the instance declares, with their protocol.
func checkIngressPorts(c checker, cfg *apigwv1.InstanceConfig, g *apigwv1.ApiGroup) {
	for i, d := range g.UrlDomains {
		for _, u := range domainPortUses(d) {
			switch p := IngressProtocol(cfg, u.port); p {
			case "":
				c.idx("url_domains", i).add(u.field, "port %d is not a custom inbound port of the instance (config.ingress_ports)", u.port)
			case u.proto:
			default:
				c.idx("url_domains", i).add(u.field, "port %d is an %s port of the instance", u.port, p)
			}
		}
	}
}

// checkIngressPortsUsed verifies that an instance keeps the custom inbound
// ports its groups' domains are bound to.
func (in *Instance) checkIngressPortsUsed(c checker, def *apigwv1.Instance) {
	cfg := def.GetConfig()
	for _, g := range List[*apigwv1.ApiGroup](in, KindGroup) {
		for _, d := range g.UrlDomains {
			for _, u := range domainPortUses(d) {
				if p := IngressProtocol(cfg, u.port); p != u.proto {
					c.add("config.ingress_ports", "group %s domain %s uses %s port %d", g.Name, d.Domain, u.proto, u.port)
				}
			}
		}
	}
}

package extauth

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apigw/apigw/extauth/orch"
	"github.com/apigw/apigw/model"
	"github.com/apigw/apigw/model/gwresp"
)

// checkParams validates the declared request parameters
// (docs/apig-semantics.md#request-parameters): presence of required ones,
// NUMBER syntax, and with valid_enable the enumeration, numeric range and
// string length. Absent optional parameters with a default get it, also on
// the backend request.
func (c *call) checkParams() *denial {
	for i := range c.target.plan.params {
		pp := &c.target.plan.params[i]
		if pp.mapped {
			continue
		}
		v := &c.params.vals[i]
		if pp.loc != model.LocPath {
			var s string
			var ok bool
			switch pp.loc {
			case model.LocQuery:
				s, ok = c.req.queryValue(pp.p.Name)
			case model.LocHeader:
				s, ok = c.req.hdr.get(pp.hname)
			case model.LocCookie:
				s, ok = c.req.cookie(pp.p.Name)
			}
			if ok {
				*v = pval{v: s, raw: s, ok: true}
			}
		}
		if !v.ok || (v.v == "" && pp.required) {
			if pp.required {
				return c.paramDenial(pp, "is required")
			}
			if pp.hasDefault {
				*v = pval{v: pp.p.DefaultValue, raw: pp.p.DefaultValue, ok: true, defaulted: true}
				c.insertDefault(pp)
			}
			continue
		}
		if d := c.validateParam(pp, v.v); d != nil {
			return d
		}
	}
	return nil
}

func (c *call) validateParam(pp *paramPlan, s string) *denial {
	var num float64
	if pp.number {
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return c.paramDenial(pp, "must be a number")
		}
		num = n
	}
	if !pp.validate {
		return nil
	}
	if len(pp.enum) > 0 {
		found := false
		for _, e := range pp.enum {
			if s == e {
				found = true
				break
			}
		}
		if !found {
			return c.paramDenial(pp, "must be one of "+strings.Join(pp.enum, ","))
		}
	}
	p := pp.p
	if pp.number {
		if (p.MinNum != nil && num < float64(*p.MinNum)) || (p.MaxNum != nil && num > float64(*p.MaxNum)) {
			return c.paramDenial(pp, "must be between "+bound(p.MinNum, "-inf")+" and "+bound(p.MaxNum, "+inf"))
		}
		return nil
	}
	n := int32(utf8.RuneCountInString(s))
	if (p.MinSize != nil && *p.MinSize > 0 && n < *p.MinSize) || (p.MaxSize != nil && *p.MaxSize > 0 && n > *p.MaxSize) {
		return c.paramDenial(pp, "length must be between "+bound(p.MinSize, "0")+" and "+bound(p.MaxSize, "unlimited"))
	}
	return nil
}

func bound(v *int32, none string) string {
	if v == nil {
		return none
	}
	return strconv.Itoa(int(*v))
}

func (c *call) paramDenial(pp *paramPlan, what string) *denial {
	return denyf(ReasonBadParameter, gwresp.ErrParameters, "parameter "+pp.p.Name+" ("+pp.loc+") "+what)
}

// insertDefault adds an absent optional parameter's default to the
// backend request (HEADER and QUERY; PATH parameters are always
// required).
func (c *call) insertDefault(pp *paramPlan) {
	if pp.drop {
		return
	}
	switch pp.loc {
	case model.LocHeader:
		c.mut.setHeader(pp.hname, pp.p.DefaultValue)
	case model.LocQuery:
		c.mut.setQueryParam(pp.p.Name, encodeQueryValue(pp.p.DefaultValue))
	}
}

// orchestrate maps the orchestrated parameter through its rules
// (docs/apig-semantics.md#orchestration-rules): the mapped parameter gets
// its value, for the backend request (header or query) and for the policy
// conditions and backend parameters that name it.
func (c *call) orchestrate() *denial {
	op := c.target.plan.orch
	if op == nil {
		return nil
	}
	in := c.params.vals[op.input]
	out, res := op.chain.Eval(in.v, in.ok)
	switch res {
	case orch.ParamNotFound:
		return denyf(ReasonOrchestration, gwresp.ErrOrchestrationNotFound, "orchestration: parameter "+c.target.plan.params[op.input].p.Name+" is absent and no none_value rule is bound")
	case orch.Failure:
		return denyf(ReasonOrchestration, gwresp.ErrOrchestrationFailure, "orchestration: no rule of parameter "+c.target.plan.params[op.input].p.Name+" matched and no default rule is bound")
	}
	c.params.vals[op.out] = pval{v: out, raw: out, ok: true}
	pp := &c.target.plan.params[op.out]
	switch pp.loc {
	case model.LocHeader:
		c.mut.setHeader(pp.hname, out)
	case model.LocQuery:
		c.mut.setQueryParam(pp.p.Name, encodeQueryValue(out))
	}
	return nil
}

package openapi

import "strings"

// Nodes maps the model field paths of one resource ("backend_api.timeout",
// "req_params[2]") to the JSON pointers of the document nodes they were
// read from, so that a violation found by apigw's model (locally or by
// the admin API) is reported at the offending node itself.
type Nodes map[string]string

// set records the node of a field.
func (n Nodes) set(field, p string) {
	if n != nil {
		n[field] = p
	}
}

// Find returns the node of the longest recorded prefix of field (ending
// at a "." or "[" boundary).
func (n Nodes) Find(field string) (string, bool) {
	for f := field; f != ""; f = parentField(f) {
		if p, ok := n[f]; ok {
			return p, true
		}
	}
	return "", false
}

// parentField strips the last component of a field path:
// "a.b[2].c" → "a.b[2]" → "a.b" → "a" → "".
func parentField(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return ""
	}
	return f[:i]
}

// at returns the pointer of the first of the keys present in o (as key
// finds them), or o's own pointer.
func (o *obj) at(names ...string) string {
	if o == nil {
		return ""
	}
	if k, _, ok := o.lookup(names...); ok {
		return ptr(o.ptr, k)
	}
	return o.ptr
}

// rec records fields of the resource being converted.
func (c *converter) rec(field, p string) { c.nodes.set(field, p) }

// recKeys records sub-fields of prefix read from keys of o: pairs of
// model field and key spellings ("timeout", "timeout").
func (c *converter) recKeys(prefix string, o *obj, pairs ...[]string) {
	if o == nil {
		return
	}
	c.rec(prefix, o.ptr)
	for _, p := range pairs {
		if _, _, ok := o.lookup(p[1:]...); ok {
			f := p[0]
			if prefix != "" {
				f = prefix + "." + f
			}
			c.rec(f, o.at(p[1:]...))
		}
	}
}

// lookup is key without marking the key as read.
func (o *obj) lookup(names ...string) (string, any, bool) {
	for _, n := range names {
		if v, ok := o.m[n]; ok {
			return n, v, true
		}
	}
	for k, v := range o.m {
		for _, n := range names {
			if fold(k) == fold(n) {
				return k, v, true
			}
		}
	}
	return "", nil, false
}

func keys(field string, spellings ...string) []string { return append([]string{field}, spellings...) }

// recOperation records the nodes of an operation's own fields.
func (c *converter) recOperation(op *operation, ex *obj) {
	c.rec("req_method", op.ptr)
	c.rec("req_uri", op.ptr[:strings.LastIndex(op.ptr, "/")]) // the path item
	if op.id != "" {
		c.rec("name", ptr(op.ptr, "operationId"))
	}
	switch {
	case op.description != "":
		c.rec("remark", ptr(op.ptr, "description"))
	case op.summary != "":
		c.rec("remark", ptr(op.ptr, "summary"))
	}
	if len(op.tags) > 0 {
		c.rec("tags", ptr(op.ptr, "tags"))
	}
	if len(op.schemes) > 0 {
		c.rec("req_protocol", ptr(op.ptr, "schemes"))
	}
	for _, f := range [][]string{{"type", extRequestType}, {"match_mode", extMatchMode}, {"cors", extCors},
		{"is_send_fg_body_base64", extFgBase64}, {"content_type", extContentType}, {"response_id", extResponse}} {
		if _, ok := op.ext[f[1]]; ok {
			c.rec(f[0], ex.at(f[1]))
		}
	}
}

// recParam records the nodes of a frontend parameter's fields: the
// parameter object, and its schema (or what its $ref names) for type,
// default, enumeration and bounds.
func (c *converter) recParam(field string, p *param) {
	c.rec(field, p.ptr)
	for _, f := range [][2]string{{"name", "name"}, {"location", "in"}, {"remark", "description"}, {"required", "required"},
		{"sample_value", extSample}, {"pass_through", extPassThrough}, {"orchestrations", extOrchestration}} {
		c.rec(field+"."+f[0], ptr(p.src, f[1]))
	}
	for _, f := range [][2]string{{"type", "type"}, {"default_value", "default"}, {"enumerations", "enum"},
		{"min_num", "minimum"}, {"max_num", "maximum"}, {"min_size", "minLength"}, {"max_size", "maxLength"}} {
		c.rec(field+"."+f[0], ptr(p.bounds, f[1]))
	}
}

// nodeOf is the node a violation of field points at: the recorded node of
// the field (or of its closest recorded parent), else the resource's.
func nodeOf(resource string, fields Nodes, field string) string {
	if p, ok := fields.Find(field); ok {
		return p
	}
	return resource
}

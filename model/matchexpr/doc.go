// Package matchexpr parses, validates and evaluates the rule expressions
// of APIG's Request Throttling 2.0 plug-in (the match_regex of each rule)
// and of its circuit-breaker plug-in (downgrade rules, the unhealthy
// condition). Huawei publishes no grammar for them; every published
// example has the shape of lua-resty-expr's JSON arrays, with APIG's own
// conventions for `in` (a comma-separated list) and for a lone condition
// at the top. This package implements that shape:
//
//	expr      = condition | group | list
//	condition = [param, op, value] | [param, "!", op, value]
//	group     = [logic, expr, expr, ...]          (one or more operands)
//	list      = [expr, expr, ...]                 (all must match: AND)
//	logic     = "AND" | "OR" | "!AND" | "!OR"     (any case)
//
// For example `["AND",["method","~=","POST"],["reqPath","~~","^/v1/"]]` or
// `["OR",["$context.statusCode","in","500,501,504"],["$context.backendResponseTime",">",6000]]`.
//
// param names a parameter the plug-in defines (a header, query, path,
// method or system parameter, or a `$context.*` value of the breaker);
// values are looked up through Params. The operators, as APIG's console
// names them and as lua-resty-expr evaluates them:
//
//	==   equal. A string value compares the text exactly; a number value
//	     compares numerically (a parameter that is not a number is unequal).
//	~=   not equal: exactly the negation of == (a missing parameter is
//	     "not equal"). This is Lua's spelling of !=, not a regex match.
//	~~   regular expression ("pattern"): the value is a regular expression
//	     searched for anywhere in the parameter (anchor it with ^ and $ to
//	     match the whole value). Go's RE2 syntax: lookarounds and
//	     backreferences are refused when the expression is parsed.
//	~*   as ~~, ignoring case.
//	in   enumeration: the value is a comma-separated list ("500,501,504";
//	     spaces around items are ignored) or a JSON array of strings and
//	     numbers; the parameter's text must equal one item.
//	> >= < <=
//	     numeric comparisons; the value must be a number (or a numeric
//	     string). A parameter that is not a decimal number does not match.
//
// "!" before an operator negates the condition; "!AND" and "!OR" negate a
// group. A missing parameter matches only ~= (and negated conditions).
//
// Parse refuses anything else with an *Error naming the position inside
// the expression (as JSON array indexes, e.g. "[2][1]") and the byte
// offset, so that a caller validating a plug-in can append the position to
// the field path of the rule ("rules[3].match_regex[2][1]"). An
// expression is compiled once (regular expressions, lists and numbers are
// prepared) and Eval is then allocation-free.
//
// The rate_limit plug-in (model.CompileRateLimit, docs/plugins.md#rate_limit)
// calls Parse when its content is validated and compiled; ext_authz calls
// Eval to select the first matching rule, whose name reaches the
// rate-limit service through the route's rule descriptor.
//
// The breaker plug-in parses its unhealthy_condition and the match_regex
// of its downgrade rules with it when the content is validated
// (model/plugin_breaker.go); ext_authz evaluates the rules on each request
// and the breakers evaluate the condition on each access-log entry
// (package breaker).
package matchexpr

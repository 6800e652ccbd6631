// Package archtest holds tests of rules about the shape of the code base
// that the compiler does not check: which packages may import which, and
// what a package may expose. It has no code of its own.
package archtest

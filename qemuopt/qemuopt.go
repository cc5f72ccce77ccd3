// Package qemuopt parses QEMU's command-line option arguments, the one place
// gemu does so, with QEMU's rules:
//
//   - QemuOpts (util/qemu-option.c, used by -device, -machine, -drive,
//     -chardev, -smp, -icount, -m, -rtc, -global): comma-separated items;
//     ",," is a literal comma inside a value; the first item, when it has no
//     '=', is the value of the option's implied key (-device AC97 means
//     driver=AC97); any later bare item "key" means key=on and "nokey"
//     means key=off; a key given twice keeps the last value, as QEMU's
//     qemu_opt_find does.
//   - keyval (util/keyval.c, used by -audiodev and -object): the same
//     item syntax, dotted keys (out.frequency=48000), an implied first key,
//     but no bare "key" shorthand: every later item needs '='; a key given
//     twice keeps the last value.
//
// In both, an item "help" or "?" asks for help (-device AC97,help,
// -audiodev help); Opts.Help reports it and the caller prints what QEMU
// would. Values are typed by the accessors: Bool takes QEMU's spellings
// (qapi/qapi-util.c qapi_bool_parse: on/yes/true/y and off/no/false/n),
// Size takes QEMU's size syntax (util/cutils.c qemu_strtosz: K, M, G, T, P,
// E binary suffixes, decimal fractions, 0x hex without suffix).
package qemuopt

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Syntax selects QEMU's two option grammars.
type Syntax int

const (
	// QemuOpts is util/qemu-option.c's grammar.
	QemuOpts Syntax = iota
	// Keyval is util/keyval.c's grammar.
	Keyval
)

// Item is one key=value pair, as given (after the implied key and the
// bare-key shorthand are resolved).
type Item struct {
	Key, Value string
}

// Opts is one parsed option argument.
type Opts struct {
	Flag  string // the flag it came from, "-device" (for messages)
	Raw   string // the argument as given
	Items []Item // in command-line order, duplicates included
	Help  bool   // an item "help" or "?" was given

	used map[string]bool
}

// Parse parses arg, given to flag, with the QemuOpts grammar; implied is
// the key of a first item without '=' ("" if the option has none, in which
// case a bare first item is a flag like any other).
func Parse(flag, arg, implied string) (*Opts, error) {
	return parse(QemuOpts, flag, arg, implied)
}

// ParseKeyval parses arg with the keyval grammar (-audiodev, -object).
func ParseKeyval(flag, arg, implied string) (*Opts, error) {
	return parse(Keyval, flag, arg, implied)
}

func parse(syn Syntax, flag, arg, implied string) (*Opts, error) {
	o := &Opts{Flag: flag, Raw: arg}
	if arg == "" {
		return o, nil
	}
	for i, it := range split(arg) {
		eq := strings.IndexByte(it.text, '=')
		if eq < 0 {
			switch {
			case it.text == "help" || it.text == "?":
				o.Help = true
				continue
			case i == 0 && implied != "":
				o.Items = append(o.Items, Item{implied, it.text})
				continue
			case syn == Keyval:
				return nil, o.Errorf("expected '=' after parameter %q", it.text)
			}
			key, val := it.text, "on"
			if strings.HasPrefix(key, "no") && len(key) > 2 {
				key, val = key[2:], "off"
			}
			if err := o.checkKey(syn, key); err != nil {
				return nil, err
			}
			o.Items = append(o.Items, Item{key, val})
			continue
		}
		if it.escapedKey {
			// QEMU ends a key at the first ',' or '=': ",," cannot
			// appear in a key.
			return nil, o.Errorf("invalid parameter name in %q", it.text)
		}
		key, val := it.text[:eq], it.text[eq+1:]
		if err := o.checkKey(syn, key); err != nil {
			return nil, err
		}
		o.Items = append(o.Items, Item{key, val})
	}
	return o, nil
}

type rawItem struct {
	text       string
	escapedKey bool // a ",," came before the first '='
}

// split cuts s at single commas; ",," is a literal comma.
func split(s string) []rawItem {
	var items []rawItem
	var cur strings.Builder
	esc, seenEq := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' {
			if i+1 < len(s) && s[i+1] == ',' {
				cur.WriteByte(',')
				if !seenEq {
					esc = true
				}
				i++
				continue
			}
			items = append(items, rawItem{cur.String(), esc})
			cur.Reset()
			esc, seenEq = false, false
			continue
		}
		if c == '=' {
			seenEq = true
		}
		cur.WriteByte(c)
	}
	return append(items, rawItem{cur.String(), esc})
}

// checkKey applies QEMU's key rules: non-empty; keyval keys are dotted
// fragments of letters, digits, '-' and '_' (util/keyval.c key_to_index /
// keyval_parse_one).
func (o *Opts) checkKey(syn Syntax, key string) error {
	if key == "" {
		return o.Errorf("empty parameter name")
	}
	if syn != Keyval {
		return nil
	}
	for _, frag := range strings.Split(key, ".") {
		if frag == "" {
			return o.Errorf("invalid parameter name %q", key)
		}
		for _, c := range frag {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return o.Errorf("invalid parameter name %q", key)
			}
		}
	}
	return nil
}

// Errorf returns an error that names the option as the user typed it:
// "-device AC97,foo=1: ...".
func (o *Opts) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s %s: %s", o.Flag, o.Raw, fmt.Sprintf(format, args...))
}

// Has reports whether key was given.
func (o *Opts) Has(key string) bool {
	_, ok := o.Get(key)
	return ok
}

// Get returns the last value given for key and whether there was one.
func (o *Opts) Get(key string) (string, bool) {
	if o == nil {
		return "", false
	}
	if o.used == nil {
		o.used = map[string]bool{}
	}
	o.used[key] = true
	for i := len(o.Items) - 1; i >= 0; i-- {
		if o.Items[i].Key == key {
			return o.Items[i].Value, true
		}
	}
	return "", false
}

// String returns key's value, or def when it was not given.
func (o *Opts) String(key, def string) string {
	if v, ok := o.Get(key); ok {
		return v
	}
	return def
}

// Bool returns key's value as a boolean (QEMU's spellings), or def.
func (o *Opts) Bool(key string, def bool) (bool, error) {
	v, ok := o.Get(key)
	if !ok {
		return def, nil
	}
	b, err := ParseBool(v)
	if err != nil {
		return def, o.Errorf("%s=%s: %v", key, v, err)
	}
	return b, nil
}

// Size returns key's value as a byte count (QEMU's size syntax; a number
// without suffix is bytes), or def.
func (o *Opts) Size(key string, def uint64) (uint64, error) {
	v, ok := o.Get(key)
	if !ok {
		return def, nil
	}
	n, err := ParseSize(v, 'B')
	if err != nil {
		return def, o.Errorf("%s=%s: %v", key, v, err)
	}
	return n, nil
}

// Uint returns key's value as an unsigned integer (decimal, or 0x hex as
// QEMU's qemu_strtou64 with base 0 takes it), or def.
func (o *Opts) Uint(key string, def uint64) (uint64, error) {
	v, ok := o.Get(key)
	if !ok {
		return def, nil
	}
	n, err := ParseUint(v)
	if err != nil {
		return def, o.Errorf("%s=%s: %v", key, v, err)
	}
	return n, nil
}

// Keys returns the distinct keys given, in order of first appearance.
func (o *Opts) Keys() []string {
	var keys []string
	for _, it := range o.Items {
		if !slices.Contains(keys, it.Key) {
			keys = append(keys, it.Key)
		}
	}
	return keys
}

// Check returns an error naming the first key that is not in known, the
// way QEMU rejects a property a device does not have.
func (o *Opts) Check(known ...string) error {
	for _, k := range o.Keys() {
		if !slices.Contains(known, k) {
			sorted := slices.Clone(known)
			slices.Sort(sorted)
			return o.Errorf("unknown parameter %q (known: %s)", k, strings.Join(sorted, ", "))
		}
	}
	return nil
}

// Unused returns an error naming the first key no accessor asked for, for
// callers that read their options first and check afterwards.
func (o *Opts) Unused() error {
	for _, k := range o.Keys() {
		if !o.used[k] {
			return o.Errorf("unknown parameter %q", k)
		}
	}
	return nil
}

// ParseBool takes QEMU's boolean spellings (qapi/qapi-util.c
// qapi_bool_parse): on, yes, true, y; off, no, false, n. They are
// case-sensitive there, and here.
func ParseBool(s string) (bool, error) {
	switch s {
	case "on", "yes", "true", "y":
		return true, nil
	case "off", "no", "false", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use on or off)", s)
}

// ParseUint parses a decimal or 0x-prefixed hexadecimal unsigned integer.
func ParseUint(s string) (uint64, error) {
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("%q is not an unsigned number", s)
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil || (len(s) > 1 && s[0] == '0' && s[1] != 'x' && s[1] != 'X') {
		// Base 0 would read a leading 0 as octal; QEMU's callers
		// mostly use base 0 too, but a size or count written 010 is
		// more likely a typo than octal: refuse it.
		return 0, fmt.Errorf("%q is not an unsigned number", s)
	}
	return n, nil
}

// ErrSize is wrapped by every ParseSize error.
var ErrSize = errors.New("invalid size")

// ParseSize parses QEMU's size syntax (util/cutils.c do_strtosz): a
// decimal number with an optional fraction, or 0x hexadecimal without
// fraction or suffix, then an optional suffix B, K, M, G, T, P or E (either
// case, powers of 1024). unit is the suffix assumed when none is given:
// 'B' for most options, 'M' for -m (qemu_strtosz_MiB). A fractional result
// is truncated to whole bytes; exponents, signs and trailing text are
// refused, and so is a value above 2^64-1.
func ParseSize(s string, unit byte) (uint64, error) {
	bad := func(why string) (uint64, error) {
		return 0, fmt.Errorf("%w %q: %s", ErrSize, s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return bad("hexadecimal sizes take no fraction or suffix")
		}
		m, _ := suffixMul(unit)
		if n != 0 && m > math.MaxUint64/n {
			return bad("too large")
		}
		return n * m, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[:i]
	fracPart := ""
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracPart = s[j:i]
	}
	if intPart == "" && fracPart == "" {
		return bad("not a number")
	}
	mul, ok := suffixMul(unit)
	if i < len(s) {
		if mul, ok = suffixMul(s[i]); !ok || i+1 != len(s) {
			return bad("unknown suffix (use B, K, M, G, T, P or E)")
		}
	} else if !ok {
		return bad("no default unit")
	}
	// Exact arithmetic: (int.frac) * mul, truncated.
	num, okInt := new(big.Int).SetString(intPart+fracPart, 10)
	if intPart+fracPart == "" || !okInt {
		return bad("not a number")
	}
	num.Mul(num, new(big.Int).SetUint64(mul))
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(fracPart))), nil)
	num.Quo(num, den)
	if !num.IsUint64() {
		return bad("too large")
	}
	return num.Uint64(), nil
}

func suffixMul(c byte) (uint64, bool) {
	switch c {
	case 'B', 'b':
		return 1, true
	case 'K', 'k':
		return 1 << 10, true
	case 'M', 'm':
		return 1 << 20, true
	case 'G', 'g':
		return 1 << 30, true
	case 'T', 't':
		return 1 << 40, true
	case 'P', 'p':
		return 1 << 50, true
	case 'E', 'e':
		return 1 << 60, true
	}
	return 0, false
}

package spec

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

func describeAt(at []any) string {
	var b strings.Builder
	for i, el := range at {
		switch el := el.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(el)
		case int:
			fmt.Fprintf(&b, "[%d]", el)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func checkBase(base string) error {
	if base == BaseStatic || base == BaseScratch {
		return nil
	}
	if _, err := reference.ParseNormalizedNamed(base); err != nil {
		return fmt.Errorf("%q is neither \"static\", \"scratch\" nor an image reference: %v", base, err)
	}
	return nil
}

// contextPath cleans a relative path and reports whether it stays inside
// the build context.
func contextPath(p string) (string, bool) {
	clean := path.Clean(p)
	if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

func validTag(tag string) bool {
	return tag != "" && !strings.ContainsAny(tag, " ,\t\"'")
}

// linksStatically reports whether ldflags ask the external linker for a
// static binary.
func linksStatically(ldflags []string) bool {
	joined := strings.Join(ldflags, " ")
	return strings.Contains(joined, "-static")
}

var signalName = regexp.MustCompile(`^(SIG)?[A-Z][A-Z0-9+-]*$`)

func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n < 65
	}
	return signalName.MatchString(s)
}

// ParseOwner reads "uid" or "uid:gid"; empty means root.
func ParseOwner(owner string) (uid, gid int, err error) {
	if owner == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(owner, ":")
	uid, err1 := strconv.Atoi(u)
	gid = uid
	var err2 error
	if hasGroup {
		gid, err2 = strconv.Atoi(g)
	}
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("%q is not a numeric uid or uid:gid (the image has no user database to look names up in)", owner)
	}
	return uid, gid, nil
}

// ParseMode reads an octal mode such as "0644"; empty means "keep the
// context's modes" and returns -1.
func ParseMode(mode string) (int, error) {
	if mode == "" {
		return -1, nil
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal file mode such as \"0644\"", mode)
	}
	return int(m), nil
}

// Allowed extra flags: gobuild owns the output, paths and what it builds,
// so flags that change those (-o, -toolexec, -exec, -overlay, -modfile)
// are refused.
var buildFlags = map[string]bool{
	"-a": false, "-v": false, "-x": false, "-cover": false,
	"-mod": true, "-pgo": true, "-buildmode": true, "-covermode": true, "-coverpkg": true, "-p": true,
}

var testFlags = map[string]bool{
	"-short": false, "-v": false, "-cover": false, "-failfast": false, "-race": false,
	"-run": true, "-skip": true, "-count": true, "-timeout": true, "-covermode": true, "-coverpkg": true,
	"-shuffle": true, "-bench": true, "-benchtime": true, "-cpu": true, "-parallel": true,
}

// checkFlag accepts "-name" or "-name=value" when allowed has the name;
// the bool says whether the flag takes a value.
func checkFlag(flag string, allowed map[string]bool) error {
	if !strings.HasPrefix(flag, "-") {
		return fmt.Errorf("flag %q must start with -", flag)
	}
	name, _, hasValue := strings.Cut(flag, "=")
	name = "-" + strings.TrimLeft(name, "-")
	takesValue, ok := allowed[name]
	if !ok {
		known := slices.Sorted(maps.Keys(allowed))
		return fmt.Errorf("flag %q is not allowed; allowed: %s", flag, strings.Join(known, " "))
	}
	if takesValue && !hasValue {
		return fmt.Errorf("flag %q needs a value: write it as %s=VALUE in one list item", flag, name)
	}
	if !takesValue && hasValue && name != "-v" && name != "-x" && name != "-a" {
		return fmt.Errorf("flag %q takes no value", flag)
	}
	if check, ok := flagValues[name]; ok && hasValue {
		if err := check(flag[strings.Index(flag, "=")+1:]); err != nil {
			return fmt.Errorf("flag %q: %v", flag, err)
		}
	}
	return nil
}

// flagValues check the values of the flags whose values gobuild's image
// or its view of the sources depends on.
var flagValues = map[string]func(string) error{
	"-buildmode": oneOf("exe", "pie", "default"),
	"-mod":       oneOf("mod", "readonly", "vendor"),
	"-covermode": oneOf("set", "count", "atomic"),
	"-pgo": func(v string) error {
		if v == "auto" || v == "off" || isContextPath(v) {
			return nil
		}
		return errors.New("want auto, off or a profile's path inside the module, such as default.pgo")
	},
	"-p": func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return errors.New("want a number of builds to run at once, 1 or more")
		}
		return nil
	},
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(values, v) {
			return nil
		}
		return fmt.Errorf("want one of %s", strings.Join(values, ", "))
	}
}

// isContextPath reports whether p is a relative path that stays inside
// the directory it is relative to.
func isContextPath(p string) bool {
	clean := path.Clean(p)
	return p != "" && !path.IsAbs(p) && clean != ".." && !strings.HasPrefix(clean, "../")
}

func isRelativePackage(p string) bool {
	if p != "." && !strings.HasPrefix(p, "./") {
		return false
	}
	clean := path.Clean(p)
	return clean != ".." && !strings.HasPrefix(clean, "../") && !strings.Contains(p, "...")
}

func validEnvName(k string) bool {
	return k != "" && !strings.ContainsAny(k, "= \t\n")
}

// Normalize returns the port in the "8080/tcp" form of OCI image configs.
func (p Port) Normalize() (string, error) {
	num, proto, hasProto := strings.Cut(string(p), "/")
	if !hasProto {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q is not a port; use a number from 1 to 65535, optionally with /tcp or /udp", string(p))
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return "", fmt.Errorf("%q: protocol must be tcp, udp or sctp", string(p))
	}
	return fmt.Sprintf("%d/%s", n, proto), nil
}

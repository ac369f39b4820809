package systemd

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/api"
)

// unit is a parsed unit file: section -> key -> values in order (a key
// may repeat, as SystemCallFilter does).
type unit map[string]map[string][]string

// parseUnit reads systemd's key=value syntax; anything else is an error.
func parseUnit(text string) (unit, error) {
	u := unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] != nil {
				return nil, fmt.Errorf("line %d: section [%s] twice", n, section)
			}
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("line %d: %q is not key=value inside a section", n, line)
			}
			k = strings.TrimSpace(k)
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u, sc.Err()
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// checkUnit asserts what a boxoffice node needs from its unit.
func checkUnit(u unit) []string {
	var bad []string
	want := []struct{ section, key, value string }{
		{"Unit", "StartLimitIntervalSec", "0"},
		{"Service", "Type", "simple"}, // boxoffice does not call sd_notify, so not notify
		{"Service", "User", "boxoffice"},
		{"Service", "EnvironmentFile", "/etc/boxoffice/boxoffice.env"},
		{"Service", "Restart", "always"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "StateDirectory", "boxoffice"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, w := range want {
		if got := u.get(w.section, w.key); got != w.value {
			bad = append(bad, fmt.Sprintf("[%s] %s=%q, want %q", w.section, w.key, got, w.value))
		}
	}
	exec := strings.Fields(u.get("Service", "ExecStart"))
	if len(exec) < 2 || filepath.Base(exec[0]) != "boxoffice" || exec[1] != "serve" {
		bad = append(bad, fmt.Sprintf("ExecStart=%q, want the boxoffice binary with `serve`", u.get("Service", "ExecStart")))
	}
	return bad
}

// settingsOf lists the BOXOFFICE_* variables cmd/boxoffice reads.
func settingsOf(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "cmd", "boxoffice", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`e\.(?:str|dur|num|flt|boolean|cidrs)\("([A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		out["BOXOFFICE_"+m[1]] = true
	}
	if len(out) < 15 {
		t.Fatalf("found only %d settings in cmd/boxoffice/config.go; has the way it reads BOXOFFICE_* changed?", len(out))
	}
	return out
}

// checkEnv asserts the example env file sets only real settings, the
// required ones among them, in prod mode.
func checkEnv(text string, settings map[string]bool) []string {
	var bad []string
	env := map[string]string{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("line %d: %q is not KEY=value", n+1, line))
		case !settings[k]:
			bad = append(bad, fmt.Sprintf("line %d: %s is not a setting of cmd/boxoffice", n+1, k))
		}
		env[k] = v
	}
	for _, k := range []string{"BOXOFFICE_DATABASE_URL", "BOXOFFICE_JWT_SECRET", "BOXOFFICE_GOSSIP_ADDR", "BOXOFFICE_JOIN", "BOXOFFICE_DATA_DIR"} {
		if env[k] == "" {
			bad = append(bad, k+" is not set")
		}
	}
	if n := len(env["BOXOFFICE_JWT_SECRET"]); n < api.MinSecretBytes {
		bad = append(bad, fmt.Sprintf("BOXOFFICE_JWT_SECRET has %d bytes; the node refuses fewer than %d", n, api.MinSecretBytes))
	}
	if env["BOXOFFICE_MODE"] != "prod" {
		bad = append(bad, "BOXOFFICE_MODE must be prod")
	}
	return bad
}

// verify runs `systemd-analyze verify` on the unit with ExecStart pointed
// at an executable that exists here; it returns what systemd complained
// about (it exits 0 on most warnings, so any output counts).
func verify(t *testing.T, analyze, text string) string {
	t.Helper()
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	text = regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllString(text, "ExecStart="+truePath)
	path := filepath.Join(t.TempDir(), "boxoffice.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestUnit checks deploy/systemd as it is, and that the checks see a
// broken unit.
func TestUnit(t *testing.T) {
	b, err := os.ReadFile("boxoffice.service")
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	env, err := os.ReadFile("boxoffice.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkEnv(string(env), settingsOf(t)) {
		t.Errorf("boxoffice.env.example: %s", p)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is not installed, so systemd cannot check the unit: run `make deps` (deploy/systemd/analyze install, i.e. apt-get install systemd): %v", err)
	}
	cases := []struct {
		name, old, new string
		ok             bool
	}{
		{"as shipped", "", "", true},
		{"restart only on failure", "Restart=always", "Restart=on-failure", false},
		{"misspelt hardening key", "ProtectSystem=strict", "ProtectSystm=strict", false},
		{"not serve", "boxoffice serve", "boxoffice seed", false},
		{"no section", "[Service]\n", "", false},
		// Only systemd knows its keys: this one passes the checks above.
		{"key systemd does not know", "Restart=always\n", "Restart=always\nRestartForever=yes\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := good
			if c.old != "" {
				if !strings.Contains(good, c.old) {
					t.Fatalf("the unit no longer contains %q; update the case", c.old)
				}
				text = strings.Replace(good, c.old, c.new, 1)
			}
			var problems []string
			if u, err := parseUnit(text); err != nil {
				problems = append(problems, err.Error())
			} else {
				problems = append(problems, checkUnit(u)...)
			}
			if out := verify(t, analyze, text); out != "" {
				problems = append(problems, "systemd-analyze verify: "+out)
			}
			if c.ok && len(problems) > 0 {
				t.Errorf("problems: %q", problems)
			}
			if !c.ok && len(problems) == 0 {
				t.Error("the broken unit passed")
			}
		})
	}
}

// TestEnvBroken: the env-file check sees each kind of mistake.
func TestEnvBroken(t *testing.T) {
	b, err := os.ReadFile("boxoffice.env.example")
	if err != nil {
		t.Fatal(err)
	}
	settings := settingsOf(t)
	cases := []struct{ name, old, new, want string }{
		{"misspelt setting", "BOXOFFICE_HOLD_TTL=", "BOXOFFICE_HOLD_TIME=", "BOXOFFICE_HOLD_TIME is not a setting"},
		{"short secret", "BOXOFFICE_JWT_SECRET=change-me-to-at-least-32-random-bytes", "BOXOFFICE_JWT_SECRET=short", "refuses fewer than"},
		{"dev mode", "BOXOFFICE_MODE=prod", "BOXOFFICE_MODE=dev", "must be prod"},
		{"no seeds", "BOXOFFICE_JOIN=", "#BOXOFFICE_JOIN=", "BOXOFFICE_JOIN is not set"},
		{"not key=value", "BOXOFFICE_LOG_LEVEL=info", "BOXOFFICE_LOG_LEVEL info", "is not KEY=value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(b), c.old) {
				t.Fatalf("the env file no longer contains %q; update the case", c.old)
			}
			got := checkEnv(strings.Replace(string(b), c.old, c.new, 1), settings)
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("want a problem containing %q, got %q", c.want, got)
			}
		})
	}
}

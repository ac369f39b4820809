package k8s

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/boxoffice/boxoffice/api"
)

// manifests is every object of the directory, decoded into the API types.
type manifests struct {
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	services     map[string]*corev1.Service
	statefulSets []*appsv1.StatefulSet
	pdbs         []*policyv1.PodDisruptionBudget
	ingresses    []*networkingv1.Ingress
}

// load decodes each document strictly: an unknown or misspelt field, a
// duplicate key or a wrong type is an error, as the API server would say.
func load(files map[string][]byte) (*manifests, error) {
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}, services: map[string]*corev1.Service{}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for i, doc := range bytes.Split(files[name], []byte("\n---")) {
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			if err := m.decode(doc); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", name, i+1, err)
			}
		}
	}
	return m, nil
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

func (m *manifests) decode(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	strict := func(obj any) error { return yaml.UnmarshalStrict(doc, obj) }
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		err := strict(o)
		m.configMaps[o.Name] = o
		return err
	case "v1 Secret":
		o := &corev1.Secret{}
		err := strict(o)
		m.secrets[o.Name] = o
		return err
	case "v1 Service":
		o := &corev1.Service{}
		err := strict(o)
		m.services[o.Name] = o
		return err
	case "apps/v1 StatefulSet":
		o := &appsv1.StatefulSet{}
		err := strict(o)
		m.statefulSets = append(m.statefulSets, o)
		return err
	case "networking.k8s.io/v1 Ingress":
		o := &networkingv1.Ingress{}
		err := strict(o)
		m.ingresses = append(m.ingresses, o)
		return err
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		err := strict(o)
		m.pdbs = append(m.pdbs, o)
		return err
	}
	return fmt.Errorf("unexpected apiVersion %q kind %q", tm.APIVersion, tm.Kind)
}

// problems collects what check finds wrong.
type problems []error

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// selects reports whether a selector picks pods with these labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort resolves a probe's or Service's target port (a name or a
// number) to the container's port, with its protocol.
func containerPort(c corev1.Container, target intstr.IntOrString, proto corev1.Protocol) (int32, bool) {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, p := range c.Ports {
		pp := p.Protocol
		if pp == "" {
			pp = corev1.ProtocolTCP
		}
		if pp != proto {
			continue
		}
		if target.Type == intstr.String && p.Name == target.StrVal || target.Type == intstr.Int && p.ContainerPort == target.IntVal {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// check asserts what the API types alone cannot; settings are the real
// BOXOFFICE_* variables of cmd/boxoffice.
func (m *manifests) check(settings map[string]bool) problems {
	var p problems
	if len(m.statefulSets) != 1 {
		p.addf("want one StatefulSet, have %d", len(m.statefulSets))
		return p
	}
	sts := m.statefulSets[0]
	labels := sts.Spec.Template.Labels
	if sts.Spec.Selector == nil || !selects(sts.Spec.Selector.MatchLabels, labels) {
		p.addf("StatefulSet %s: selector does not match its pod labels %v", sts.Name, labels)
	}
	replicas := 1
	if sts.Spec.Replicas != nil {
		replicas = int(*sts.Spec.Replicas)
	}
	if len(sts.Spec.Template.Spec.Containers) != 1 {
		p.addf("StatefulSet %s: want one container", sts.Name)
		return p
	}
	c := sts.Spec.Template.Spec.Containers[0]

	peers := m.services[sts.Spec.ServiceName]
	switch {
	case peers == nil:
		p.addf("StatefulSet %s: serviceName %q names no Service", sts.Name, sts.Spec.ServiceName)
	case peers.Spec.ClusterIP != corev1.ClusterIPNone:
		p.addf("Service %s: the StatefulSet's governing Service must be headless (clusterIP: None)", peers.Name)
	case !peers.Spec.PublishNotReadyAddresses:
		p.addf("Service %s: publishNotReadyAddresses must be true, or pods cannot find each other before they are ready", peers.Name)
	}
	if !slices.ContainsFunc(slices.Collect(mapValues(m.services)), func(s *corev1.Service) bool {
		return s.Spec.ClusterIP != corev1.ClusterIPNone && slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool { return sp.Name == "http" })
	}) {
		p.addf("no Service exposes the HTTP port")
	}
	for _, s := range m.services {
		if !selects(s.Spec.Selector, labels) {
			p.addf("Service %s: selector %v does not match the pod labels %v", s.Name, s.Spec.Selector, labels)
		}
		for _, sp := range s.Spec.Ports {
			target := sp.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(sp.Port)
			}
			if _, ok := containerPort(c, target, sp.Protocol); !ok {
				p.addf("Service %s port %s: target port %s/%s is not a container port", s.Name, sp.Name, target.String(), sp.Protocol)
			}
		}
	}
	for _, ing := range m.ingresses {
		m.checkIngress(&p, ing)
	}
	for _, pdb := range m.pdbs {
		if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, labels) {
			p.addf("PodDisruptionBudget %s: selector does not match the pod labels", pdb.Name)
		}
		if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
			p.addf("PodDisruptionBudget %s: set maxUnavailable or minAvailable", pdb.Name)
		}
	}
	if len(m.pdbs) == 0 {
		p.addf("no PodDisruptionBudget")
	}

	p.checkProbes(c)
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		p.addf("container %s: set cpu and memory requests", c.Name)
	}
	env := m.checkEnv(&p, c, settings)
	p.checkAddresses(c, env, sts, replicas)
	if dir := env["BOXOFFICE_DATA_DIR"]; !slices.ContainsFunc(c.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == dir }) {
		p.addf("BOXOFFICE_DATA_DIR %q is not a mounted volume", dir)
	}
	return p
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

func (p *problems) checkProbes(c corev1.Container) {
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		switch {
		case pr.probe == nil || pr.probe.HTTPGet == nil:
			p.addf("container %s: no HTTP %s probe", c.Name, pr.name)
		case pr.probe.HTTPGet.Path != pr.path:
			p.addf("container %s: %s probe path %q, want %q", c.Name, pr.name, pr.probe.HTTPGet.Path, pr.path)
		default:
			if _, ok := containerPort(c, pr.probe.HTTPGet.Port, corev1.ProtocolTCP); !ok {
				p.addf("container %s: %s probe port %s is not a container port", c.Name, pr.name, pr.probe.HTTPGet.Port.String())
			}
		}
	}
}

// checkEnv resolves the container's environment as the kubelet would
// (envFrom first, then env in order, $(VAR) only in env values and only of
// variables defined before) and returns it.
func (m *manifests) checkEnv(p *problems, c corev1.Container, settings map[string]bool) map[string]string {
	env := map[string]string{}
	fromSecret := map[string]bool{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := m.configMaps[from.ConfigMapRef.Name]
			if cm == nil {
				p.addf("envFrom names ConfigMap %q, which is not in the manifests", from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				if strings.Contains(v, "$(") {
					p.addf("ConfigMap %s: %s=%q: $(VAR) is not expanded in envFrom; set it in the container's env", cm.Name, k, v)
				}
				env[k] = v
			}
		case from.SecretRef != nil:
			s := m.secrets[from.SecretRef.Name]
			if s == nil {
				p.addf("envFrom names Secret %q, which is not in the manifests", from.SecretRef.Name)
				continue
			}
			for k, v := range s.StringData {
				env[k], fromSecret[k] = v, true
			}
			for k, v := range s.Data {
				env[k], fromSecret[k] = string(v), true
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			if e.ValueFrom.FieldRef == nil {
				p.addf("env %s: only downward-API fields are expected in valueFrom", e.Name)
			}
			env[e.Name] = "<" + e.Name + ">"
			continue
		}
		v := varRef.ReplaceAllStringFunc(e.Value, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			val, ok := env[name]
			if !ok {
				p.addf("env %s=%q refers to $(%s), which is not defined before it", e.Name, e.Value, name)
			}
			return val
		})
		env[e.Name] = v
	}
	for k := range env {
		if strings.HasPrefix(k, "BOXOFFICE_") && !settings[k] {
			p.addf("%s is not a setting of cmd/boxoffice (see cmd/boxoffice/config.go)", k)
		}
	}
	for _, k := range []string{"BOXOFFICE_JWT_SECRET", "BOXOFFICE_DATABASE_URL"} {
		if !fromSecret[k] {
			p.addf("%s must come from a Secret", k)
		}
	}
	if n := len(env["BOXOFFICE_JWT_SECRET"]); n < api.MinSecretBytes {
		p.addf("BOXOFFICE_JWT_SECRET has %d bytes; the node refuses fewer than %d", n, api.MinSecretBytes)
	}
	if env["BOXOFFICE_MODE"] != "prod" {
		p.addf("BOXOFFICE_MODE=%q: a deployment runs prod (dev mints tokens for anyone)", env["BOXOFFICE_MODE"])
	}
	return env
}

// checkAddresses: each listener is a declared container port, the
// addresses other pods dial are the pod's own IP, and the gossip seeds and
// NATS routes name every pod of the StatefulSet under its headless Service.
func (p *problems) checkAddresses(c corev1.Container, env map[string]string, sts *appsv1.StatefulSet, replicas int) {
	port := func(key, hostport string, protos ...corev1.Protocol) int {
		i := strings.LastIndex(hostport, ":")
		n, err := strconv.Atoi(hostport[i+1:])
		if i < 0 || err != nil {
			p.addf("%s=%q: want host:port", key, hostport)
			return 0
		}
		for _, proto := range protos {
			if _, ok := containerPort(c, intstr.FromInt(n), proto); !ok {
				p.addf("%s=%q: port %d/%s is not a container port", key, hostport, n, proto)
			}
		}
		return n
	}
	port("BOXOFFICE_ADDR", env["BOXOFFICE_ADDR"], corev1.ProtocolTCP)
	gossip := port("BOXOFFICE_GOSSIP_ADDR", env["BOXOFFICE_GOSSIP_ADDR"], corev1.ProtocolTCP, corev1.ProtocolUDP)
	port("BOXOFFICE_ACTOR_ADDR", env["BOXOFFICE_ACTOR_ADDR"], corev1.ProtocolTCP)
	port("BOXOFFICE_NATS_PORT", ":"+env["BOXOFFICE_NATS_PORT"], corev1.ProtocolTCP)
	route := port("BOXOFFICE_NATS_CLUSTER_PORT", ":"+env["BOXOFFICE_NATS_CLUSTER_PORT"], corev1.ProtocolTCP)
	for _, k := range []string{"BOXOFFICE_GOSSIP_ADDR", "BOXOFFICE_ACTOR_ADDR", "BOXOFFICE_NATS_HOST"} {
		if !strings.HasPrefix(env[k], "<POD_IP>") {
			p.addf("%s=%q: other pods dial it, so it must be the pod's IP ($(POD_IP) from status.podIP)", k, env[k])
		}
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_IP" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP"
	}) {
		p.addf("POD_IP must come from the downward API field status.podIP")
	}
	var join, routes []string
	for i := range replicas {
		host := fmt.Sprintf("%s-%d.%s", sts.Name, i, sts.Spec.ServiceName)
		join = append(join, fmt.Sprintf("%s:%d", host, gossip))
		routes = append(routes, fmt.Sprintf("nats-route://%s:%d", host, route))
	}
	if got := strings.Split(env["BOXOFFICE_JOIN"], ","); !slices.Equal(got, join) {
		p.addf("BOXOFFICE_JOIN=%v, want every pod's gossip address %v", got, join)
	}
	if got := strings.Split(env["BOXOFFICE_NATS_ROUTES"], ","); !slices.Equal(got, routes) {
		p.addf("BOXOFFICE_NATS_ROUTES=%v, want every pod's route %v", got, routes)
	}
}

// checkIngress: an Ingress routes to a Service port that exists, and the
// nodes believe its X-Forwarded-For (BOXOFFICE_TRUSTED_PROXIES set and
// valid), or every client behind it would share one rate-limit bucket.
func (m *manifests) checkIngress(p *problems, ing *networkingv1.Ingress) {
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, path := range rule.HTTP.Paths {
			b := path.Backend.Service
			if b == nil {
				p.addf("Ingress %s: path %s has no Service backend", ing.Name, path.Path)
				continue
			}
			svc := m.services[b.Name]
			if svc == nil {
				p.addf("Ingress %s: backend Service %q does not exist", ing.Name, b.Name)
				continue
			}
			if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
				return b.Port.Name != "" && sp.Name == b.Port.Name || b.Port.Number != 0 && sp.Port == b.Port.Number
			}) {
				p.addf("Ingress %s: backend port %q/%d is not a port of Service %s", ing.Name, b.Port.Name, b.Port.Number, b.Name)
			}
		}
	}
	proxies := ""
	for _, cm := range m.configMaps {
		if v, ok := cm.Data["BOXOFFICE_TRUSTED_PROXIES"]; ok {
			proxies = v
		}
	}
	if strings.TrimSpace(proxies) == "" {
		p.addf("Ingress %s: set BOXOFFICE_TRUSTED_PROXIES to the controller's addresses, or the nodes see one client", ing.Name)
		return
	}
	for _, part := range strings.Split(proxies, ",") {
		part = strings.TrimSpace(part)
		if _, err := netip.ParsePrefix(part); err != nil {
			if _, err := netip.ParseAddr(part); err != nil {
				p.addf("BOXOFFICE_TRUSTED_PROXIES: %q is not a CIDR", part)
			}
		}
	}
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
	if len(out) < 15 || !out["BOXOFFICE_DATABASE_URL"] {
		t.Fatalf("found only %d settings in cmd/boxoffice/config.go; has the way it reads BOXOFFICE_* changed?", len(out))
	}
	return out
}

// readManifests returns the directory's manifests (kustomization.yaml aside,
// after checking that it lists exactly them).
func readManifests(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[path] = b
	}
	var kust struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(files["kustomization.yaml"], &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	delete(files, "kustomization.yaml")
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	slices.Sort(kust.Resources)
	if !slices.Equal(names, kust.Resources) {
		t.Errorf("kustomization.yaml lists %v; the directory has %v", kust.Resources, names)
	}
	return files
}

// TestManifests validates deploy/k8s as it is.
func TestManifests(t *testing.T) {
	m, err := load(readManifests(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range m.check(settingsOf(t)) {
		t.Error(e)
	}
}

// TestManifestsBroken breaks the manifests one way at a time and expects
// the validation to say so: it guards the checks themselves.
func TestManifestsBroken(t *testing.T) {
	settings := settingsOf(t)
	good := readManifests(t)
	cases := []struct {
		name, file, old, new, want string
	}{
		{"misspelt field", "statefulset.yaml", "readinessProbe:", "readynessProbe:", "unknown field"},
		{"wrong type", "statefulset.yaml", "replicas: 3", "replicas: three", "cannot unmarshal"},
		{"unknown kind", "pdb.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgett", "unexpected apiVersion"},
		{"readiness on the liveness path", "statefulset.yaml", "path: /readyz", "path: /healthz", "readiness probe path"},
		{"probe on an undeclared port", "statefulset.yaml", "port: http\n            periodSeconds: 5", "port: web\n            periodSeconds: 5", "probe port web"},
		{"Service to a missing port", "service.yaml", "targetPort: http", "targetPort: 8081", "not a container port"},
		{"gossip UDP not declared", "statefulset.yaml", "protocol: UDP", "protocol: TCP", "7946/UDP"},
		{"Service selects other pods", "service.yaml", "  selector:\n    app.kubernetes.io/name: boxoffice", "  selector:\n    app: boxoffice", "Service boxoffice: selector"},
		{"duplicate key", "pdb.yaml", "  maxUnavailable: 1", "  maxUnavailable: 1\n  maxUnavailable: 2", "already set"},
		{"PDB selects nothing", "pdb.yaml", "      app.kubernetes.io/name: boxoffice", "      app.kubernetes.io/name: other", "PodDisruptionBudget boxoffice: selector"},
		{"governing Service not headless", "service-peers.yaml", "clusterIP: None", "clusterIP: \"\"", "headless"},
		{"not-ready pods unpublished", "service-peers.yaml", "publishNotReadyAddresses: true", "publishNotReadyAddresses: false", "publishNotReadyAddresses"},
		{"misspelt setting", "configmap.yaml", "BOXOFFICE_HOLD_TTL:", "BOXOFFICE_HOLD_TIME:", "BOXOFFICE_HOLD_TIME is not a setting"},
		{"secret in the ConfigMap", "secret.yaml", "BOXOFFICE_JWT_SECRET: change-me", "BOXOFFICE_JWKS_URL: change-me", "BOXOFFICE_JWT_SECRET must come from a Secret"},
		{"short JWT secret", "secret.yaml", "change-me-to-at-least-32-random-bytes", "too-short", "refuses fewer than"},
		{"dev mode", "configmap.yaml", "BOXOFFICE_MODE: prod", "BOXOFFICE_MODE: dev", "a deployment runs prod"},
		{"unexpanded variable", "configmap.yaml", "BOXOFFICE_LOG_LEVEL: info", "BOXOFFICE_LOG_LEVEL: $(LEVEL)", "not expanded in envFrom"},
		{"variable used before it is defined", "statefulset.yaml", "value: $(POD_NAME)", "value: $(NODE_NAME)", "not defined before it"},
		{"gossip on loopback", "statefulset.yaml", "value: $(POD_IP):7946", "value: 127.0.0.1:7946", "must be the pod's IP"},
		{"seed list misses a pod", "configmap.yaml", ",boxoffice-2.boxoffice-peers:7946", "", "BOXOFFICE_JOIN"},
		{"routes to the wrong port", "configmap.yaml", "boxoffice-1.boxoffice-peers:6222", "boxoffice-1.boxoffice-peers:4222", "BOXOFFICE_NATS_ROUTES"},
		{"scaled without the seeds", "statefulset.yaml", "replicas: 3", "replicas: 4", "BOXOFFICE_JOIN"},
		{"no requests", "statefulset.yaml", "cpu: 500m\n", "", "requests"},
		{"Ingress without trusted proxies", "configmap.yaml", "BOXOFFICE_TRUSTED_PROXIES: 10.0.0.0/8", "", "BOXOFFICE_TRUSTED_PROXIES"},
		{"trusted proxies not a CIDR", "configmap.yaml", "BOXOFFICE_TRUSTED_PROXIES: 10.0.0.0/8", "BOXOFFICE_TRUSTED_PROXIES: ingress-nginx", "not a CIDR"},
		{"Ingress to a missing Service port", "ingress.yaml", "name: http", "name: web", "not a port of Service"},
		{"data dir not on the volume", "configmap.yaml", "BOXOFFICE_DATA_DIR: /var/lib/boxoffice", "BOXOFFICE_DATA_DIR: /data", "not a mounted volume"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(good[c.file]), c.old) {
				t.Fatalf("%s no longer contains %q; update the case", c.file, c.old)
			}
			files := map[string][]byte{}
			for k, v := range good {
				files[k] = v
			}
			files[c.file] = []byte(strings.Replace(string(good[c.file]), c.old, c.new, 1))
			var msgs []string
			if m, err := load(files); err != nil {
				msgs = append(msgs, err.Error())
			} else {
				for _, e := range m.check(settings) {
					msgs = append(msgs, e.Error())
				}
			}
			if !slices.ContainsFunc(msgs, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("want a problem containing %q, got %q", c.want, msgs)
			}
		})
	}
}

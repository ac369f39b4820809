package k8s

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// collector is otel-collector/'s objects.
type collector struct {
	config     *corev1.ConfigMap
	deployment *appsv1.Deployment
	service    *corev1.Service
}

// loadCollector decodes otel-collector/collector.yaml strictly.
func loadCollector(t *testing.T, b []byte) collector {
	t.Helper()
	var c collector
	for i, doc := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("collector.yaml document %d: %v", i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			c.config = &corev1.ConfigMap{}
			obj = c.config
		case "apps/v1 Deployment":
			c.deployment = &appsv1.Deployment{}
			obj = c.deployment
		case "v1 Service":
			c.service = &corev1.Service{}
			obj = c.service
		default:
			t.Fatalf("collector.yaml document %d: unexpected %s %s", i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("collector.yaml document %d: %v", i+1, err)
		}
	}
	if c.config == nil || c.deployment == nil || c.service == nil {
		t.Fatal("collector.yaml: want a ConfigMap, a Deployment and a Service")
	}
	return c
}

// TestCollectorManifests: the collector the nodes' OTEL_EXPORTER_OTLP_ENDPOINT
// names exists, its Service reaches its OTLP/HTTP port, and its
// configuration receives OTLP over HTTP there and exports traces.
func TestCollectorManifests(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("otel-collector", "collector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := loadCollector(t, b)
	m, err := load(readManifests(t))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := m.configMaps["boxoffice"].Data["OTEL_EXPORTER_OTLP_ENDPOINT"]
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" {
		t.Fatalf("OTEL_EXPORTER_OTLP_ENDPOINT %q: want http://<service>:<port>", endpoint)
	}
	if u.Hostname() != c.service.Name {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT names %q, the collector's Service is %q", u.Hostname(), c.service.Name)
	}
	port, _ := strconv.Atoi(u.Port())
	pod := c.deployment.Spec.Template
	if !selects(c.deployment.Spec.Selector.MatchLabels, pod.Labels) || !selects(c.service.Spec.Selector, pod.Labels) {
		t.Errorf("the collector's Deployment selector or Service selector does not match its pod labels %v", pod.Labels)
	}
	found := false
	for _, sp := range c.service.Spec.Ports {
		if int(sp.Port) != port {
			continue
		}
		found = true
		got, ok := containerPort(pod.Spec.Containers[0], sp.TargetPort, sp.Protocol)
		if !ok || got != 4318 {
			t.Errorf("Service port %d targets container port %d (%v); the collector's OTLP/HTTP receiver listens on 4318", port, got, ok)
		}
	}
	if !found {
		t.Errorf("the collector's Service has no port %d (OTEL_EXPORTER_OTLP_ENDPOINT)", port)
	}
	var cfg struct {
		Receivers struct {
			OTLP struct {
				Protocols struct {
					HTTP struct {
						Endpoint string `json:"endpoint"`
					} `json:"http"`
				} `json:"protocols"`
			} `json:"otlp"`
		} `json:"receivers"`
		Service struct {
			Pipelines map[string]struct {
				Receivers []string `json:"receivers"`
				Exporters []string `json:"exporters"`
			} `json:"pipelines"`
		} `json:"service"`
	}
	if err := yaml.Unmarshal([]byte(c.config.Data["config.yaml"]), &cfg); err != nil {
		t.Fatalf("collector config.yaml: %v", err)
	}
	if cfg.Receivers.OTLP.Protocols.HTTP.Endpoint != "0.0.0.0:4318" {
		t.Errorf("collector OTLP/HTTP receiver on %q, want 0.0.0.0:4318", cfg.Receivers.OTLP.Protocols.HTTP.Endpoint)
	}
	if p := cfg.Service.Pipelines["traces"]; len(p.Receivers) == 0 || len(p.Exporters) == 0 {
		t.Errorf("collector has no traces pipeline from a receiver to an exporter: %+v", cfg.Service.Pipelines)
	}
}

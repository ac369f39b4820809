// Package k8s holds boxoffice's Kubernetes manifests (a StatefulSet with a
// headless Service for gossip, NATS routes and stable pod names, a Service
// for HTTP, a PodDisruptionBudget, a ConfigMap and a Secret) and the test
// that validates them. No cluster or schema download is available where the
// suite runs, so the test decodes every manifest strictly into the
// Kubernetes API's own Go types (unknown or misspelt fields fail) and then
// checks what a schema cannot: selectors match the pod labels, probes and
// Services name real container ports, every BOXOFFICE_* variable is a real
// setting of cmd/boxoffice, and the gossip seeds and NATS routes name the
// StatefulSet's pods. otel-collector/ holds the OpenTelemetry Collector
// the nodes' OTEL_EXPORTER_OTLP_ENDPOINT names, checked the same way. It
// has no Go code of its own.
package k8s

package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// manifests are the objects of one kustomization, decoded strictly into
// the Kubernetes API types.
type manifests struct {
	namespaces   []*corev1.Namespace
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	pdbs         []*policyv1.PodDisruptionBudget
	workloads    []*workload
	certificates []*certificate    // cert-manager
	issuers      []*issuer         // cert-manager
	kustomizeImg map[string]string // image name → new tag
}

// workload is a Deployment or StatefulSet.
type workload struct {
	kind, name string
	replicas   int32
	selector   *metav1.LabelSelector
	pod        *corev1.PodTemplateSpec
	sts        *appsv1.StatefulSet
}

// containers returns the long-running containers: regular ones and
// native sidecars (init containers with restartPolicy Always).
func (w *workload) containers() []corev1.Container {
	var out []corev1.Container
	for _, c := range w.pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	return append(out, w.pod.Spec.Containers...)
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

var reYAMLDoc = regexp.MustCompile(`(?m)^---\s*$`)

// loadKustomization reads a kustomization's resources (files and nested
// kustomizations; the only transformations used are namespace and images).
func loadKustomization(t *testing.T, dir string) *manifests {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("%s/kustomization.yaml: %s %s", dir, k.APIVersion, k.Kind)
	}
	m := &manifests{kustomizeImg: map[string]string{}}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err != nil {
			t.Fatal(err)
		} else if st.IsDir() {
			sub := loadKustomization(t, p)
			m.merge(sub)
			continue
		}
		m.decodeFile(t, p)
	}
	for _, img := range k.Images {
		if img.NewName != "" {
			t.Errorf("%s: images newName is not checked", dir)
		}
		m.kustomizeImg[img.Name] = img.NewTag
	}
	for _, w := range m.workloads {
		for i := range w.pod.Spec.Containers {
			applyImage(&w.pod.Spec.Containers[i], m.kustomizeImg)
		}
		for i := range w.pod.Spec.InitContainers {
			applyImage(&w.pod.Spec.InitContainers[i], m.kustomizeImg)
		}
	}
	return m
}

func applyImage(c *corev1.Container, tags map[string]string) {
	name, _, _ := strings.Cut(c.Image, ":")
	if tag, ok := tags[name]; ok && tag != "" {
		c.Image = name + ":" + tag
	}
}

func (m *manifests) merge(o *manifests) {
	m.namespaces = append(m.namespaces, o.namespaces...)
	m.services = append(m.services, o.services...)
	m.configMaps = append(m.configMaps, o.configMaps...)
	m.pdbs = append(m.pdbs, o.pdbs...)
	m.workloads = append(m.workloads, o.workloads...)
	m.certificates = append(m.certificates, o.certificates...)
	m.issuers = append(m.issuers, o.issuers...)
}

// decodeFile decodes every document of a manifest into its API type,
// rejecting unknown fields.
func (m *manifests) decodeFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range reYAMLDoc.Split(string(data), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s#%d: %v", path, i+1, err)
		}
		if tm.Kind == "" {
			continue
		}
		strict := func(into any) {
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s#%d (%s): %v", path, i+1, tm.Kind, err)
			}
		}
		switch tm.APIVersion + "/" + tm.Kind {
		case "v1/Namespace":
			o := &corev1.Namespace{}
			strict(o)
			m.namespaces = append(m.namespaces, o)
		case "v1/Service":
			o := &corev1.Service{}
			strict(o)
			m.services = append(m.services, o)
		case "v1/ConfigMap":
			o := &corev1.ConfigMap{}
			strict(o)
			m.configMaps = append(m.configMaps, o)
		case "policy/v1/PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			strict(o)
			m.pdbs = append(m.pdbs, o)
		case "apps/v1/Deployment":
			o := &appsv1.Deployment{}
			strict(o)
			m.workloads = append(m.workloads, &workload{kind: "Deployment", name: o.Name, replicas: replicas(o.Spec.Replicas), selector: o.Spec.Selector, pod: &o.Spec.Template})
		case "apps/v1/StatefulSet":
			o := &appsv1.StatefulSet{}
			strict(o)
			m.workloads = append(m.workloads, &workload{kind: "StatefulSet", name: o.Name, replicas: replicas(o.Spec.Replicas), selector: o.Spec.Selector, pod: &o.Spec.Template, sts: o})
		case "cert-manager.io/v1/Certificate":
			o := &certificate{}
			strict(o)
			m.certificates = append(m.certificates, o)
		case "cert-manager.io/v1/Issuer":
			o := &issuer{}
			strict(o)
			m.issuers = append(m.issuers, o)
		default:
			t.Fatalf("%s#%d: unexpected %s %s (add it to the check)", path, i+1, tm.APIVersion, tm.Kind)
		}
	}
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func selects(t *testing.T, sel *metav1.LabelSelector, pod map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(pod))
}

// workloadsSelected returns the workloads whose pods a selector picks.
func (m *manifests) workloadsSelected(t *testing.T, sel map[string]string) []*workload {
	t.Helper()
	var out []*workload
	for _, w := range m.workloads {
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (m *manifests) service(name string) *corev1.Service {
	for _, s := range m.services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (m *manifests) workload(name string) *workload {
	for _, w := range m.workloads {
		if w.name == name {
			return w
		}
	}
	return nil
}

// containerPort resolves a probe or service port (name or number) to a
// container port of c.
func containerPort(c corev1.Container, p intOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if p.name != "" && cp.Name == p.name || p.name == "" && cp.ContainerPort == p.num {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

type intOrString struct {
	name string
	num  int32
}

// servicePod returns the workload and container a Service port leads to,
// and the container port.
func (m *manifests) servicePort(t *testing.T, svc *corev1.Service, port int32) (*workload, corev1.Container, int32) {
	t.Helper()
	for _, sp := range svc.Spec.Ports {
		if sp.Port != port {
			continue
		}
		target := intOrString{name: sp.TargetPort.StrVal, num: sp.TargetPort.IntVal}
		if target.name == "" && target.num == 0 {
			target.num = sp.Port
		}
		for _, w := range m.workloadsSelected(t, svc.Spec.Selector) {
			for _, c := range w.containers() {
				if cp, ok := containerPort(c, target); ok {
					return w, c, cp
				}
			}
		}
		t.Errorf("service %s port %d: target %v is no container port of the pods it selects", svc.Name, port, target)
		return nil, corev1.Container{}, 0
	}
	t.Errorf("service %s has no port %d", svc.Name, port)
	return nil, corev1.Container{}, 0
}

// Every manifest decodes into the Kubernetes API types; workloads have
// probes on declared ports, resources, and a PodDisruptionBudget when
// replicated; Services reach declared container ports of the pods they
// select.
func TestKubernetesManifests(t *testing.T) {
	for _, layout := range []string{"central", "sidecar"} {
		t.Run(layout, func(t *testing.T) {
			m := loadKustomization(t, filepath.Join("kubernetes", layout))
			if len(m.namespaces) != 1 || m.namespaces[0].Name != "apigw" {
				t.Errorf("namespaces %v", m.namespaces)
			}
			for _, w := range m.workloads {
				if !selects(t, w.selector, w.pod.Labels) {
					t.Errorf("%s %s: the selector does not select its pods", w.kind, w.name)
				}
				for _, c := range w.containers() {
					checkContainer(t, w, c)
				}
				if w.replicas > 1 && !m.hasPDB(t, w) {
					t.Errorf("%s %s (%d replicas) has no PodDisruptionBudget", w.kind, w.name, w.replicas)
				}
			}
			for _, svc := range m.services {
				if len(m.workloadsSelected(t, svc.Spec.Selector)) == 0 {
					t.Errorf("service %s selects no pods", svc.Name)
					continue
				}
				for _, p := range svc.Spec.Ports {
					m.servicePort(t, svc, p.Port)
				}
			}
		})
	}
}

func (m *manifests) hasPDB(t *testing.T, w *workload) bool {
	t.Helper()
	for _, p := range m.pdbs {
		if selects(t, p.Spec.Selector, w.pod.Labels) {
			if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
				t.Errorf("PDB %s sets neither minAvailable nor maxUnavailable", p.Name)
			}
			return true
		}
	}
	return false
}

func checkContainer(t *testing.T, w *workload, c corev1.Container) {
	t.Helper()
	where := w.kind + " " + w.name + " container " + c.Name
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: set CPU and memory requests and a memory limit", where)
	}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: needs readiness and liveness probes", where)
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
		if p == nil || p.Exec != nil {
			continue
		}
		var port intOrString
		switch {
		case p.HTTPGet != nil:
			port = intOrString{name: p.HTTPGet.Port.StrVal, num: p.HTTPGet.Port.IntVal}
		case p.TCPSocket != nil:
			port = intOrString{name: p.TCPSocket.Port.StrVal, num: p.TCPSocket.Port.IntVal}
		default:
			t.Errorf("%s: unexpected probe %v", where, p)
			continue
		}
		if _, ok := containerPort(c, port); !ok {
			t.Errorf("%s: probe port %v is not a container port", where, port)
		}
	}
	if c.Image == "" || !strings.Contains(c.Image, ":") || strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("%s: pin the image (%q)", where, c.Image)
	}
}

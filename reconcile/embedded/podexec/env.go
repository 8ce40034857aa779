package podexec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// ConfigError is a container whose configuration cannot be resolved (a
// missing ConfigMap, Secret or key, an unsupported field reference). The
// container fails with reason CreateContainerConfigError.
type ConfigError struct {
	Container string
	Msg       string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("container %s: %s", e.Container, e.Msg) }

// envVar is one resolved variable, in definition order.
type envVar struct{ name, value string }

// containerEnv resolves a container's environment as the kubelet does:
// envFrom first (ConfigMaps and Secrets, with prefix; keys that are not valid
// variable names are skipped), then env in order, each value expanded with
// the variables defined before it; later definitions win.
func containerEnv(pod *corev1.Pod, c *corev1.Container, refs Lookup) ([]envVar, map[string]string, error) {
	vars := map[string]string{}
	var order []envVar
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, envVar{name: k})
		}
		vars[k] = v
	}
	for _, src := range c.EnvFrom {
		data, err := envFromData(pod.Namespace, c.Name, src, refs)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range data {
			k = src.Prefix + k
			if len(validation.IsEnvVarName(k)) == 0 {
				set(k, v)
			}
		}
	}
	for _, ev := range c.Env {
		v := Expand(ev.Value, vars)
		if ev.ValueFrom != nil {
			var err error
			if v, err = envValueFrom(pod, c.Name, ev.ValueFrom, refs); err != nil {
				return nil, nil, err
			}
		}
		set(ev.Name, v)
	}
	for i := range order {
		order[i].value = vars[order[i].name]
	}
	return order, vars, nil
}

func envFromData(ns, container string, src corev1.EnvFromSource, refs Lookup) (map[string]string, error) {
	switch {
	case src.ConfigMapRef != nil:
		cm, ok := lookupConfigMap(refs, ns, src.ConfigMapRef.Name)
		if !ok {
			if ptr.Deref(src.ConfigMapRef.Optional, false) {
				return nil, nil
			}
			return nil, &ConfigError{container, fmt.Sprintf("configmap %q not found", src.ConfigMapRef.Name)}
		}
		return cm.Data, nil
	case src.SecretRef != nil:
		s, ok := lookupSecret(refs, ns, src.SecretRef.Name)
		if !ok {
			if ptr.Deref(src.SecretRef.Optional, false) {
				return nil, nil
			}
			return nil, &ConfigError{container, fmt.Sprintf("secret %q not found", src.SecretRef.Name)}
		}
		out := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
	return nil, nil
}

func envValueFrom(pod *corev1.Pod, container string, vf *corev1.EnvVarSource, refs Lookup) (string, error) {
	switch {
	case vf.FieldRef != nil:
		v, err := fieldValue(pod, vf.FieldRef.FieldPath)
		if err != nil {
			return "", &ConfigError{container, err.Error()}
		}
		return v, nil
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		cm, ok := lookupConfigMap(refs, pod.Namespace, r.Name)
		v, has := "", false
		if ok {
			v, has = cm.Data[r.Key]
		}
		if !has && !ptr.Deref(r.Optional, false) {
			return "", &ConfigError{container, fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.Namespace, r.Name)}
		}
		return v, nil
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		s, ok := lookupSecret(refs, pod.Namespace, r.Name)
		var v []byte
		has := false
		if ok {
			v, has = s.Data[r.Key]
		}
		if !has && !ptr.Deref(r.Optional, false) {
			return "", &ConfigError{container, fmt.Sprintf("couldn't find key %s in Secret %s/%s", r.Key, pod.Namespace, r.Name)}
		}
		return string(v), nil
	case vf.ResourceFieldRef != nil:
		return "", &ConfigError{container, "resourceFieldRef " + vf.ResourceFieldRef.Resource + " is not supported by the embedded executor"}
	}
	return "", &ConfigError{container, "env valueFrom has no supported source"}
}

func lookupConfigMap(refs Lookup, ns, name string) (*corev1.ConfigMap, bool) {
	if refs == nil {
		return nil, false
	}
	return refs.ConfigMap(ns, name)
}

func lookupSecret(refs Lookup, ns, name string) (*corev1.Secret, bool) {
	if refs == nil {
		return nil, false
	}
	return refs.Secret(ns, name)
}

// fieldValue resolves a downward-API field path of the pod.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.hostIP":
		return "127.0.0.1", nil
	case "status.podIPs", "status.hostIPs":
		return "127.0.0.1", nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported by the embedded executor", path)
}

// subscript reads "prefix['key']" and returns key.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

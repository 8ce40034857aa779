package manifests

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
)

// yamlToObject reads one YAML document exactly as sigs.k8s.io/yaml's
// YAMLToJSONStrict does (goyaml.v2 strict unmarshal: YAML 1.1 scalars,
// duplicate keys are errors) and returns it as JSON-compatible values with
// the types Unstructured uses (map[string]interface{}, []interface{},
// string, bool, int64, float64, nil), plus its JSON encoding. Building the
// map directly saves the JSON→map decode that YAMLToJSON + Unmarshal costs.
func yamlToObject(data []byte) (interface{}, []byte, error) {
	if m, ok := fastYAML(data); ok {
		if j, ok := appendJSON(make([]byte, 0, len(data)+len(data)/2), m); ok {
			return m, j, nil
		}
	}
	return slowYAMLToObject(data)
}

// slowYAMLToObject is yamlToObject through goyaml.v2, for any YAML.
func slowYAMLToObject(data []byte) (interface{}, []byte, error) {
	var y interface{}
	if err := yamlv2.UnmarshalStrict(data, &y); err != nil {
		return nil, nil, err
	}
	obj, err := jsonable(y)
	if err != nil {
		return nil, nil, err
	}
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	return obj, j, nil
}

// jsonable converts goyaml.v2 values: keys become strings the way
// sigs.k8s.io/yaml converts them, numbers become what a JSON round trip with
// preserved ints gives (integral values as int64).
func jsonable(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			ks, err := keyString(k, val)
			if err != nil {
				return nil, err
			}
			if m[ks], err = jsonable(val); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []interface{}:
		a := make([]interface{}, len(t))
		for i, val := range t {
			var err error
			if a[i], err = jsonable(val); err != nil {
				return nil, err
			}
		}
		return a, nil
	case int:
		return int64(t), nil
	case int64:
		return t, nil
	case uint64:
		if t > math.MaxInt64 {
			return float64(t), nil
		}
		return int64(t), nil
	case float64:
		return jsonFloat(t)
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unsupported value of type %s", reflect.TypeOf(v))
}

// jsonFloat is what encoding a float to JSON and decoding it with preserved
// ints gives: an int64 when the encoding has no '.' or exponent.
func jsonFloat(f float64) (interface{}, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return i, nil
	}
	return f, nil
}

// keyString turns a YAML map key into a JSON object key like sigs.k8s.io/yaml.
func keyString(k, val interface{}) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case int:
		return strconv.Itoa(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float64:
		s := strconv.FormatFloat(t, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, val)
}

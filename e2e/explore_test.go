package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestExplore(t *testing.T) {
	cfg := env.RESTConfig()
	cfg.GroupVersion = &schema.GroupVersion{Group: "batch", Version: "v1"}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil { t.Fatal(err) }
	docs := map[string]string{
	"unknown": "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: a}\nspec:\n  scheduel: x\n  schedule: '* * * * *'\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: b}]}}}}\n",
	"wrongtype": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec:\n  backoffLimit: four\n  template: {spec: {restartPolicy: Never, containers: [{name: m, image: b}]}}\n",
	"bool": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a, labels: {app: y}}\nspec:\n  template: {spec: {restartPolicy: Never, containers: [{name: m, image: b}]}}\n",
	"quantity": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec:\n  template: {spec: {restartPolicy: Never, containers: [{name: m, image: b, resources: {requests: {cpu: lots}}}]}}\n",
	"invalid": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec:\n  backoffLimit: -1\n  template: {spec: {containers: [{name: m, image: b}]}}\n",
	"two unknown": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\nspec:\n  foo: 1\n  bar: 2\n  template: {spec: {restartPolicy: Never, containers: [{name: m, image: b}]}}\n",
	}
	for name, d := range docs {
		j, _ := yaml.YAMLToJSON([]byte(d))
		res := "jobs"
		if name == "unknown" { res = "cronjobs" }
		err := rc.Post().Namespace("default").Resource(res).Param("dryRun", "All").Param("fieldValidation", "Strict").Body(j).Do(context.Background()).Error()
		var se apierrors.APIStatus
		if ok := errorsAs(err, &se); ok {
			b, _ := json.MarshalIndent(se.Status(), "", " ")
			fmt.Printf("== %s\n%s\n", name, b)
		} else {
			fmt.Printf("== %s: %v\n", name, err)
		}
	}
}

func errorsAs(err error, se *apierrors.APIStatus) bool {
	if err == nil { return false }
	s, ok := err.(apierrors.APIStatus)
	if ok { *se = s }
	return ok
}

package browser

import (
	"testing"
	"time"
)

// TestStudioKubernetesVersions: Compute → Kubernetes versions lists a location's versions
// with the default and the preview ones, and no upgrades, which mlfleet does not run (S7,
// QA12 F5).
func TestStudioKubernetesVersions(t *testing.T) {
	requireChromium(t)
	s := openStudio(t, 1280, 800)
	s.signIn(adminToken(t), "", "")
	s.click(`nav a[data-nav="versions"]`)
	s.choose("#versions-location", "westeurope")
	s.waitFor("the versions", `document.querySelector('#versions-table tr[data-version="1.37.2"]')`, 10*time.Second)
	rows := eval[map[string]string](s, `Object.fromEntries([...document.querySelectorAll("#versions-table tbody tr")].map(r => [r.dataset.version, r.innerText.replace(/\s+/g, " ").trim()]))`)
	want := map[string]string{
		"1.38.0": "1.38.0 Preview: no SLA",
		"1.37.2": "1.37.2 Default",
		"1.36.3": "1.36.3",
		"1.35.4": "1.35.4",
	}
	for v, text := range want {
		if rows[v] != text {
			t.Errorf("row %s = %q, want %q", v, rows[v], text)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("rows: %v", rows)
	}
	if got := eval[string](s, `document.querySelector('nav a[aria-current="page"]').innerText`); got != "Kubernetes versions" {
		t.Errorf("current nav entry = %q", got)
	}
	s.shot("21-versions")
}

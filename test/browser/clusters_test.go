package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestStudioInferenceClusters is the scenario of issue #6 (SPEC S24): sign in, create a
// DevTest cluster and see it reach Succeeded, see the name alert for a taken name (S4), a
// dry-run Check that shows every failed precondition (B1), attach a managed cluster, the
// page in a narrow window, scale (S20), detach (S3: the cluster stays) and delete.
func TestStudioInferenceClusters(t *testing.T) {
	requireChromium(t)
	const rg, ws = "studio-rg", "studio-ws"
	c := shared.srv.Client(t)
	workspace(t, c, rg, ws)
	attachable := managedCluster(t, c, rg, "aks-attach", 3, "Standard_D3_v2")
	dev1Cluster := c.AKSResourceID(rg, "dev1")
	s := openStudio(t, 1280, 800)
	ctx := context.Background()

	step(s, "sign in", func(t *testing.T, s *studio) {
		s.do("open the page", chromedp.Navigate(shared.srv.Config.Server+"/"))
		s.waitFor("the sign-in form", `document.activeElement && document.activeElement.id === "token"`, 20*time.Second)
		s.shot("01-sign-in")
		s.signIn(adminToken(t), rg, ws)
		s.waitFor("the empty list", `document.getElementById("computes-body") && document.getElementById("computes-body").innerText.includes("No inference clusters yet")`, 20*time.Second)
		s.shot("02-clusters-empty")
	})

	step(s, "create a DevTest cluster", func(t *testing.T, s *studio) {
		s.click("#create-button")
		s.waitFor("the create form", `document.activeElement && document.activeElement.id === "create-name"`, 10*time.Second)
		s.typeInto("#create-name", "dev1")
		s.waitFor("the name check", `document.getElementById("create-name-msg").innerText.includes("dev1 is available")`, 10*time.Second)
		s.click("#create-purpose-DevTest")
		s.typeInto("#create-count", "1")
		s.waitFor("the VM sizes with their cores", `[...document.getElementById("create-vmsize").options].some(o => o.text === "Standard_D3_v2 · 4 vCPUs, 14 GiB")`, 10*time.Second)
		s.waitFor("the vCPU total", `document.getElementById("create-capacity").innerText.includes("4 vCPUs = 1 node × 4 vCPUs (Standard_D3_v2)")`, 5*time.Second)
		if got := s.text("#create-capacity"); !strings.Contains(got, "Dev/test") {
			t.Errorf("capacity panel of a DevTest cluster = %q, want the Dev/test rule", got)
		}
		s.waitFor("the default Kubernetes version", `document.getElementById("create-version").innerText.includes("1.37.2, the default of westus")`, 10*time.Second)
		s.shot("03-create-devtest")
		s.click("#create-submit")
		s.waitFor("the list with dev1", rowHas("dev1"), 10*time.Second)
		s.shot("04-create-running")
		s.waitFor("dev1 Succeeded with its conditions", rowHas("dev1", "Succeeded", "DevTest", "1 × Standard_D3_v2", "4 vCPUs", "Created", "1.37.2", "All 4 true"), 3*time.Minute)
		s.shot("05-created")
		got, err := c.GetCompute(ctx, rg, ws, "dev1")
		if err != nil {
			t.Fatal(err)
		}
		p := got.Properties.Properties
		if got.Properties.ProvisioningState != "Succeeded" || got.Properties.IsAttachedCompute || *p.ClusterPurpose != "DevTest" || *p.AgentCount != 1 || *p.AgentVMSize != "Standard_D3_v2" {
			t.Errorf("dev1 = %s attached=%v %s %d × %s, want a Succeeded created DevTest compute of 1 × Standard_D3_v2",
				got.Properties.ProvisioningState, got.Properties.IsAttachedCompute, *p.ClusterPurpose, *p.AgentCount, *p.AgentVMSize)
		}
	})

	step(s, "details", func(t *testing.T, s *studio) {
		s.click(`#computes-body tr[data-name="dev1"] a.name`)
		s.waitFor("the conditions of dev1", `document.querySelector("#detail") && document.querySelector("#detail").innerText.includes("Conditions")`, 10*time.Second)
		conds := eval[map[string]string](s, `Object.fromEntries([...document.querySelectorAll("#detail table tbody tr")].map(r => [r.cells[0].innerText, r.cells[1].innerText]))`)
		for _, typ := range []string{"Reachable", "VersionSupported", "CapacitySufficient", "ComponentsReady"} {
			if conds[typ] != "True" {
				t.Errorf("condition %s = %q, want True (all: %v)", typ, conds[typ], conds)
			}
		}
		if got := s.text("#detail"); !strings.Contains(got, dev1Cluster) || !strings.Contains(got, "Created from this workspace") {
			t.Errorf("details of dev1 lack its cluster id or how it came:\n%s", got)
		}
		s.shot("06-details")
		s.click(`.crumbs a[href="#/clusters"]`)
		s.waitFor("the list", rowHas("dev1"), 10*time.Second)
	})

	step(s, "name alert", func(t *testing.T, s *studio) {
		s.click("#create-button")
		s.waitFor("the create form", `document.activeElement && document.activeElement.id === "create-name"`, 10*time.Second)
		s.typeInto("#create-name", "dev1")
		s.waitFor("the alert for a taken name", `document.getElementById("create-name-alert") && document.getElementById("create-name-alert").getAttribute("role") === "alert"`, 10*time.Second)
		alert := s.text("#create-name-alert")
		if !strings.Contains(alert, "This name is taken.") || !strings.Contains(alert, "Workspace 'studio-ws' already has a compute named 'dev1'.") {
			t.Errorf("name alert = %q", alert)
		}
		if eval[string](s, `document.getElementById("create-name").getAttribute("aria-invalid")`) != "true" {
			t.Error("the name field is not marked aria-invalid")
		}
		s.shot("07-name-taken")
		s.click("#create-submit")
		if eval[string](s, `document.activeElement.id`) != "create-name" || !strings.HasSuffix(eval[string](s, `location.hash`), "/new") {
			t.Error("Create with a taken name left the form or did not put the focus on the name")
		}
		s.typeInto("#create-name", "9lives")
		s.waitFor("the alert for an invalid name", `document.getElementById("create-name-alert") && document.getElementById("create-name-alert").innerText.includes("This name is not valid.")`, 10*time.Second)
		s.shot("08-name-invalid")
		s.typeInto("#create-name", "dev2")
		s.waitFor("the name check", `document.getElementById("create-name-msg").innerText.includes("dev2 is available")`, 10*time.Second)
		s.click(`a.button[href="#/clusters"]`)
		s.waitFor("the list", rowHas("dev1"), 10*time.Second)
	})

	step(s, "attach dry run shows every failed precondition", func(t *testing.T, s *studio) {
		s.click("#attach-button")
		s.waitFor("the attach form", `document.activeElement && document.activeElement.id === "attach-name"`, 10*time.Second)
		s.typeInto("#attach-name", "prod1")
		// dev1's cluster: attached already, and 1 × 4 vCPUs is too small for FastProd.
		s.choose("#attach-cluster", dev1Cluster)
		s.waitFor("the cluster summary", `document.getElementById("attach-capacity").innerText.includes("4 vCPUs = 1 node × 4 vCPUs")`, 10*time.Second)
		// The verdict for the default purpose shows before Check, with what this form can
		// change (the purpose) and the scale that would make FastProd fit.
		fix := "Pick Dev/test above, or scale the cluster to 3 nodes first (mlfleet aks scale -n dev1 -g " + rg + " --node-count 3)."
		capacity := s.text("#attach-capacity")
		for _, want := range []string{"✗ Production (FastProd) needs at least 12 vCPUs; 4 is 8 short. " + fix, "✗ FastProd needs at least 3 nodes; 1 is too few. " + fix} {
			if !strings.Contains(capacity, want) {
				t.Errorf("attach capacity panel lacks %q:\n%s", want, capacity)
			}
		}
		s.click("#attach-purpose-DevTest")
		s.waitFor("the Dev/test verdict", `document.getElementById("attach-capacity").innerText.includes("✓ Dev/test")`, 10*time.Second)
		if got := s.text("#attach-capacity"); strings.Contains(got, "✗") {
			t.Errorf("attach capacity panel for Dev/test = %q, want no failed rule", got)
		}
		s.shot("09-attach-capacity-devtest")
		s.click("#attach-purpose-FastProd")
		// A pasted id of a listed cluster (in any case) gets the same summary and verdict.
		s.click("#attach-source-id")
		s.waitFor("the paste hint", `document.getElementById("attach-capacity").innerText.includes("Paste the id of a cluster")`, 10*time.Second)
		s.typeInto("#attach-resource-id", strings.ToLower(dev1Cluster))
		s.waitFor("the pasted cluster's verdict", fmt.Sprintf(`document.getElementById("attach-capacity").innerText.includes(%s)`, js("1 is too few. "+fix)), 10*time.Second)
		s.click("#attach-source-pick")
		s.waitFor("the picked cluster's verdict", fmt.Sprintf(`document.getElementById("attach-capacity").innerText.includes(%s)`, js("1 is too few. "+fix)), 10*time.Second)
		s.click("#attach-check")
		s.waitFor("the failed checks", `document.querySelector("#attach-result .error-box")`, 20*time.Second)
		got := s.text("#attach-result")
		for _, want := range []string{"UserError", "3 problems:", "needs at least 12 vCPUs", "needs at least 3 nodes", "already attached to", "Some checks failed.", "✓ Reachable"} {
			if !strings.Contains(got, want) {
				t.Errorf("dry run result lacks %q:\n%s", want, got)
			}
		}
		if eval[string](s, `document.activeElement.className`) != "error-box" {
			t.Error("the focus did not move to the result of the check")
		}
		s.shot("09-attach-check-failed")
	})

	step(s, "attach a managed cluster", func(t *testing.T, s *studio) {
		s.choose("#attach-cluster", attachable.ID)
		s.waitFor("the cluster summary", `document.getElementById("attach-capacity").innerText.includes("12 vCPUs = 3 nodes × 4 vCPUs")`, 10*time.Second)
		s.click("#attach-check")
		s.waitFor("the passed checks", `document.querySelector("#attach-result .checks-ok")`, 20*time.Second)
		if got := s.text("#attach-result"); !strings.Contains(got, "Every check passed") || strings.Contains(got, "✗") {
			t.Errorf("dry run of a good attach = %q", got)
		}
		s.shot("10-attach-check-passed")
		s.click("#attach-submit")
		s.waitFor("prod1 Succeeded", rowHas("prod1", "Succeeded", "FastProd", "3 × Standard_D3_v2", "12 vCPUs", "Attached", "All 4 true"), 2*time.Minute)
		if eval[bool](s, row("prod1")+`.querySelector('button[aria-label="Delete prod1"]') !== null`) {
			t.Error("an attached compute offers Delete")
		}
		s.shot("11-attached")
	})

	step(s, "narrow window", func(t *testing.T, s *studio) {
		s.do("narrow the window", chromedp.EmulateViewport(400, 860))
		defer s.do("widen the window", chromedp.EmulateViewport(1280, 800))
		s.waitFor("rows as cards", `getComputedStyle(document.querySelector("#computes thead")).position === "absolute"`, 5*time.Second)
		if w := eval[int](s, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("the list is %d px wide in a 400 px window", w)
		}
		s.shot("12-narrow-clusters")
		s.click("#create-button")
		s.waitFor("the create form", `document.getElementById("create-form")`, 10*time.Second)
		if w := eval[int](s, `document.documentElement.scrollWidth`); w > 400 {
			t.Errorf("the create form is %d px wide in a 400 px window", w)
		}
		s.shot("13-narrow-create")
		s.click(`a.button[href="#/clusters"]`)
		s.waitFor("the list", rowHas("prod1"), 10*time.Second)
	})

	step(s, "scale", func(t *testing.T, s *studio) {
		s.click(`button[aria-label="Scale prod1"]`)
		s.waitFor("the scale dialog with the focus on the node count", `document.getElementById("dialog").open && document.activeElement.id === "scale-count"`, 10*time.Second)
		if got := s.text("#scale-vmsize"); !strings.Contains(got, "Standard_D3_v2") || !strings.Contains(got, "cannot be changed") {
			t.Errorf("VM size in the scale dialog = %q", got)
		}
		if n := eval[int](s, `document.querySelectorAll("#dialog select, #dialog input:not(#scale-count), #dialog textarea").length`); n != 0 {
			t.Errorf("the scale dialog has %d editable fields besides the node count", n)
		}
		s.typeInto("#scale-count", "2")
		s.waitFor("the FastProd rule", `document.getElementById("scale-capacity").innerText.includes("FastProd needs at least 3 nodes")`, 5*time.Second)
		s.click("#scale-check")
		s.waitFor("the refused scale-down", `document.querySelector("#scale-result .error-box")`, 20*time.Second)
		if got := s.text("#scale-result"); !strings.Contains(got, "A FastProd cluster needs at least 3 nodes") {
			t.Errorf("check of a scale to 2 nodes = %q", got)
		}
		s.shot("14-scale-check-failed")
		s.typeInto("#scale-count", "4")
		s.waitFor("16 vCPUs", `document.getElementById("scale-capacity").innerText.includes("16 vCPUs = 4 nodes × 4 vCPUs")`, 5*time.Second)
		if got := s.text("#scale-result"); got != "" {
			t.Errorf("the check of 2 nodes is still shown after the count changed to 4: %q", got)
		}
		s.shot("15-scale")
		s.click("#scale-submit")
		s.waitFor("the dialog to close", `!document.getElementById("dialog").open`, 10*time.Second)
		s.waitFor("prod1 on 4 nodes", rowHas("prod1", "Succeeded", "4 × Standard_D3_v2", "16 vCPUs"), 2*time.Minute)
		s.shot("16-scaled")
		mc, err := c.GetManagedCluster(ctx, rg, "aks-attach")
		if err != nil {
			t.Fatal(err)
		}
		if n := mc.Properties.AgentPoolProfiles[0].Count; n != 4 {
			t.Errorf("cluster aks-attach has %d nodes after the scale, want 4", n)
		}
	})

	step(s, "autoscale", func(t *testing.T, s *studio) {
		// The cluster side turns the autoscaler on; the list shows the range and the nodes now.
		var body mlfleet.AgentPoolPut
		on, lo, hi := true, 3, 6
		body.Properties.EnableAutoScaling, body.Properties.MinCount, body.Properties.MaxCount = &on, &lo, &hi
		_, p, err := c.BeginUpdateAgentPool(ctx, rg, "aks-attach", "nodepool1", body)
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			if _, err := p.Wait(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
		s.waitFor("prod1 autoscaled", rowHas("prod1", "3–6 × Standard_D3_v2 (autoscale)", "4 nodes now, 16 vCPUs"), 2*time.Minute)
		s.shot("16b-autoscale")
		// Scale now edits the range.
		s.click(`button[aria-label="Scale prod1"]`)
		s.waitFor("the range dialog", `document.getElementById("dialog").open && document.getElementById("scale-min") && document.getElementById("scale-max") && !document.getElementById("scale-count")`, 10*time.Second)
		s.typeInto("#scale-max", "8")
		s.shot("16c-autoscale-range")
		s.click("#scale-submit")
		s.waitFor("the dialog to close", `!document.getElementById("dialog").open`, 10*time.Second)
		s.waitFor("prod1 within 3–8", rowHas("prod1", "3–8 × Standard_D3_v2 (autoscale)"), 2*time.Minute)
		mc, err := c.GetManagedCluster(ctx, rg, "aks-attach")
		if err != nil {
			t.Fatal(err)
		}
		if ap := mc.Properties.AgentPoolProfiles[0]; !ap.EnableAutoScaling || ap.MaxCount == nil || *ap.MaxCount != 8 {
			t.Errorf("after the range dialog, pool = %+v", ap)
		}
	})

	step(s, "detach", func(t *testing.T, s *studio) {
		s.click(`button[aria-label="Detach prod1"]`)
		s.waitFor("the confirmation", `document.getElementById("dialog").open && document.getElementById("detach-note")`, 10*time.Second)
		if got := s.text("#detach-note"); !strings.Contains(got, "The cluster aks-attach is not deleted.") {
			t.Errorf("detach confirmation = %q", got)
		}
		if eval[string](s, `document.activeElement.innerText`) != "Cancel" {
			t.Error("the detach confirmation does not start on Cancel")
		}
		s.shot("17-detach-confirm")
		s.click("#remove-confirm")
		s.waitFor("prod1 gone", `!`+row("prod1")+` && `+rowHas("dev1"), 2*time.Minute)
		s.shot("18-detached")
		mc, err := c.GetManagedCluster(ctx, rg, "aks-attach")
		if err != nil || mc.Properties.ProvisioningState != "Succeeded" {
			t.Errorf("after detach, cluster aks-attach = %v, %v; want it Succeeded", mc, err)
		}
	})

	step(s, "delete", func(t *testing.T, s *studio) {
		s.click(`button[aria-label="Delete dev1"]`)
		s.waitFor("the confirmation", `document.getElementById("dialog").open && document.getElementById("delete-note")`, 10*time.Second)
		if got := s.text("#delete-note"); !strings.Contains(got, "The cluster dev1 is deleted") {
			t.Errorf("delete confirmation = %q", got)
		}
		s.shot("19-delete-confirm")
		s.click("#remove-confirm")
		s.waitFor("the empty list", `document.getElementById("computes-body").innerText.includes("No inference clusters yet")`, 2*time.Minute)
		testutil.WaitFor(t, time.Minute, "cluster dev1 gone with its compute", func() (bool, string) {
			_, err := c.GetManagedCluster(ctx, rg, "dev1")
			return mlfleet.IsNotFound(err), fmt.Sprint(err)
		})
	})
}

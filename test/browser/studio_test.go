package browser

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// screenshotDir is where the tests write their screenshots (git-ignored).
const screenshotDir = "screenshots"

// studio is one browser tab on the Studio page, used by test t (see step for subtests).
type studio struct {
	t       *testing.T
	ctx     context.Context
	console *consoleLog
	srv     *testserver.Server // the server whose page the tab shows
}

// consoleLog is what the page wrote to its console.
type consoleLog struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// openStudio starts a headless Chromium with a window of width × height, trusting the
// test server's certificate (and only it), and collects what the page writes to the
// console: when the test ends, an uncaught exception, a console error or a security
// message (such as a Content-Security-Policy violation) fails it.
func openStudio(t *testing.T, width, height int) *studio {
	t.Helper()
	return openStudioOn(t, shared.srv, width, height)
}

// openStudioOn is openStudio for the page of server srv (a test's own server, which it may
// stop).
func openStudioOn(t *testing.T, srv *testserver.Server, width, height int) *studio {
	t.Helper()
	requireChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests may run as root, where Chromium's sandbox cannot start
		chromedp.WindowSize(width, height),
		chromedp.Flag("ignore-certificate-errors-spki-list", serverSPKI(t, srv)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	s := &studio{t: t, ctx: ctx, console: &consoleLog{}, srv: srv}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			s.console.mu.Lock()
			s.console.messages = append(s.console.messages, m)
			s.console.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
		s.console.mu.Lock()
		defer s.console.mu.Unlock()
		for _, m := range s.console.messages {
			// The page's failed API calls (401, 400, 409 on purpose) are logged by the
			// network layer; they are shown on the page, which the tests check.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") || m.Source == "security" {
				t.Errorf("browser console: %s", m)
			}
		}
	})
	return s
}

// serverSPKI is the base64 SHA-256 of the server certificate's public key, for Chromium's
// ignore-certificate-errors-spki-list: the browser accepts that key and no other.
func serverSPKI(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	resp, err := srv.HTTP.Get(srv.Config.Server + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sum := sha256.Sum256(resp.TLS.PeerCertificates[0].RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// do runs browser actions, failing the test (with a screenshot) on error.
func (s *studio) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		s.failShot()
		s.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](s *studio, expr string) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		s.failShot()
		s.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true.
func (s *studio) waitFor(what, expr string, timeout time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, timeout+10*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		s.failShot()
		s.t.Fatalf("wait for %s (%s): %v\npage text:\n%s", what, expr, err, s.pageText())
	}
}

func (s *studio) pageText() string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	return text
}

// text returns the visible text of the element sel finds.
func (s *studio) text(sel string) string {
	s.t.Helper()
	return eval[string](s, fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText`, js(sel)))
}

func (s *studio) click(sel string) {
	s.t.Helper()
	s.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// typeInto replaces the content of a field by typing text into it, as a user who selects
// what is there and types over it.
func (s *studio) typeInto(sel, text string) {
	s.t.Helper()
	if !eval[bool](s, fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false; el.focus(); el.select(); return true; })()`, js(sel))) {
		s.failShot()
		s.t.Fatalf("type into %s: no such element", sel)
	}
	s.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks the option with this value in a select, as a user's choice does (a change
// event, unless it was chosen already), after waiting for the option to be there.
func (s *studio) choose(sel, value string) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("option %s of %s", value, sel),
		fmt.Sprintf(`[...(document.querySelector(%s) || {options: []}).options].some(o => o.value === %s)`, js(sel), js(value)), 30*time.Second)
	s.do("choose "+value+" in "+sel, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.focus(); if (s.value === %[2]s) return true; s.value = %[2]s;
			s.dispatchEvent(new Event("input", {bubbles: true})); s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, js(sel), js(value)))(ctx, t)
		return err
	}))
}

// shot writes a PNG of the whole page to screenshots/name.png.
func (s *studio) shot(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// failShot keeps a screenshot of the page as it was when a step failed.
func (s *studio) failShot() {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.MkdirAll(screenshotDir, 0o755)
		_ = os.WriteFile(filepath.Join(screenshotDir, "FAILED-"+strings.ReplaceAll(s.t.Name(), "/", "-")+".png"), png, 0o644)
	}
}

// signIn opens the page, signs in with token and picks the resource group and workspace.
func (s *studio) signIn(token, rg, ws string) {
	s.t.Helper()
	s.do("open the page", chromedp.Navigate(s.srv.Config.Server+"/"))
	s.waitFor("the sign-in form", `document.activeElement && document.activeElement.id === "token"`, 20*time.Second)
	s.do("type the token", chromedp.SendKeys(chromedp.CSS("#token"), token+kb.Enter))
	s.waitFor("the workspace picker", `!document.getElementById("context").hidden && document.getElementById("ctx-ws").options.length > 0`, 20*time.Second)
	if rg != "" {
		s.choose("#ctx-rg", rg)
		s.choose("#ctx-ws", ws)
		s.waitFor("the workspace's clusters", fmt.Sprintf(`document.querySelector(".lead") && document.querySelector(".lead").innerText.includes("workspace %s ")
			&& document.getElementById("computes-body") && !document.getElementById("computes-body").innerText.includes("Loading")`, ws), 20*time.Second)
	}
}

// row is the JavaScript expression of the table row of a compute.
func row(name string) string {
	return fmt.Sprintf(`document.querySelector('#computes-body tr[data-name="%s"]')`, name)
}

// rowHas is a JavaScript condition: the row of the compute shows every text.
func rowHas(name string, texts ...string) string {
	conds := []string{row(name)}
	for _, t := range texts {
		conds = append(conds, fmt.Sprintf(`%s.innerText.includes(%s)`, row(name), js(t)))
	}
	return strings.Join(conds, " && ")
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func adminToken(t *testing.T) string {
	t.Helper()
	tok, err := shared.srv.Config.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// workspace creates a resource group and a workspace in westus for one test.
func workspace(t *testing.T, c *mlfleet.Client, rg, ws string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateResourceGroup(ctx, rg, "westus", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
}

// managedCluster creates an embedded managed cluster of nodes × vmSize and waits for it.
func managedCluster(t *testing.T, c *mlfleet.Client, rg, name string, nodes int, vmSize string) *mlfleet.ManagedCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	in := &mlfleet.ClusterInput{Location: "westus"}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &nodes, VMSize: vmSize, Mode: "System"}}
	_, p, err := c.BeginCreateManagedCluster(ctx, rg, name, in)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(ctx, nil); err != nil || st.Status != mlfleet.StatusSucceeded {
		t.Fatalf("create managed cluster %s: %v %+v", name, err, st)
	}
	mc, err := c.GetManagedCluster(ctx, rg, name)
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// labelled is a JavaScript expression listing the form controls in scope that have no
// accessible name (no <label>, no aria-label).
func unlabelled(scope string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].filter(el => !el.closest("[hidden]") && el.type !== "hidden" &&
		el.labels.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")).map(el => el.id || el.outerHTML)`,
		js(scope+" input, "+scope+" select, "+scope+" textarea"))
}

// step runs a part of a scenario as a subtest on the same tab, and stops the scenario when
// it fails.
func step(s *studio, name string, f func(t *testing.T, s *studio)) {
	s.t.Helper()
	start := time.Now()
	ok := s.t.Run(name, func(t *testing.T) {
		f(t, &studio{t: t, ctx: s.ctx, console: s.console, srv: s.srv})
	})
	if !ok {
		s.t.FailNow()
	}
	s.t.Logf("%s: %s", name, time.Since(start).Round(10*time.Millisecond))
}

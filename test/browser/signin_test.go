package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestStudioSignIn: a refused token shows the API's error as it came; a good one is kept
// in the tab's sessionStorage only (not localStorage, not a cookie), survives a reload,
// and Sign out forgets it. Done with the keyboard only.
func TestStudioSignIn(t *testing.T) {
	requireChromium(t)
	s := openStudio(t, 1280, 800)
	s.do("open the page", chromedp.Navigate(shared.srv.Config.Server+"/"))
	s.waitFor("the focus on the token field", `document.activeElement && document.activeElement.id === "token"`, 20*time.Second)
	s.do("type a wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "mlf_not-a-token"+kb.Enter))
	s.waitFor("the refusal", `document.querySelector("#signin-result .error-box")`, 10*time.Second)
	got := s.text("#signin-result")
	for _, want := range []string{"The token was refused", "InvalidAuthenticationToken", "HTTP 401"} {
		if !strings.Contains(got, want) {
			t.Errorf("refusal lacks %q:\n%s", want, got)
		}
	}
	s.shot("00-sign-in-refused")
	if eval[string](s, `sessionStorage.getItem("mlfleet.token") || ""`) != "" {
		t.Error("a refused token was stored")
	}

	token := adminToken(t)
	s.typeInto("#token", token)
	s.do("press Enter", chromedp.SendKeys(chromedp.CSS("#token"), kb.Enter))
	s.waitFor("the page", `!document.getElementById("sign-out").hidden && document.querySelector("main h1")`, 20*time.Second)
	if eval[string](s, `sessionStorage.getItem("mlfleet.token")`) != token {
		t.Error("the token is not in sessionStorage")
	}
	if n := eval[int](s, `localStorage.length`); n != 0 {
		t.Errorf("localStorage has %d items", n)
	}
	if c := eval[string](s, `document.cookie`); c != "" {
		t.Errorf("cookies: %q", c)
	}

	s.do("reload", chromedp.Reload())
	s.waitFor("the page after a reload", `!document.getElementById("sign-out").hidden && document.querySelector("main h1")`, 20*time.Second)

	s.do("focus Sign out", chromedp.Focus(chromedp.CSS("#sign-out")))
	s.do("press Enter", chromedp.KeyEvent(kb.Enter))
	s.waitFor("the sign-in form", `document.activeElement && document.activeElement.id === "token"`, 10*time.Second)
	if eval[string](s, `sessionStorage.getItem("mlfleet.token") || ""`) != "" {
		t.Error("Sign out left the token in sessionStorage")
	}
}

// TestStudioKeyboard: the create and attach forms are reached with the keyboard, put the
// focus on their first field, and every field has a label.
func TestStudioKeyboard(t *testing.T) {
	requireChromium(t)
	const rg, ws = "keys-rg", "keys-ws"
	workspace(t, shared.srv.Client(t), rg, ws)
	s := openStudio(t, 1280, 800)
	s.signIn(adminToken(t), rg, ws)
	s.do("focus Create", chromedp.Focus(chromedp.CSS("#create-button")))
	s.do("press Enter", chromedp.KeyEvent(kb.Enter))
	s.waitFor("the focus on the name", `document.activeElement.id === "create-name"`, 10*time.Second)
	s.do("choose TLS Auto with the keyboard", chromedp.Focus(chromedp.CSS("#create-tls")), chromedp.KeyEvent(kb.ArrowDown))
	s.waitFor("the Auto fields", `!document.getElementById("create-tls-leaf").closest("[hidden]")`, 5*time.Second)
	if missing := eval[[]string](s, unlabelled("#create-form")); len(missing) > 0 {
		t.Errorf("create form fields without a label: %v", missing)
	}
	s.do("Tab to the purpose", chromedp.Focus(chromedp.CSS("#create-name")), chromedp.KeyEvent(kb.Tab))
	if id := eval[string](s, `document.activeElement.id`); id != "create-purpose-FastProd" {
		t.Errorf("Tab from the name went to %q, want the cluster purpose", id)
	}
	s.do("pick DevTest with the arrow keys", chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	if !eval[bool](s, `document.getElementById("create-purpose-DevTest").checked`) {
		t.Error("arrow keys did not move the purpose to DevTest")
	}
	s.shot("20-keyboard-create")

	s.do("open Attach", chromedp.Navigate(shared.srv.Config.Server+"/#/clusters/attach"))
	s.waitFor("the focus on the name", `document.activeElement.id === "attach-name"`, 10*time.Second)
	s.click("#attach-source-id")
	if missing := eval[[]string](s, unlabelled("#attach-form")); len(missing) > 0 {
		t.Errorf("attach form fields without a label: %v", missing)
	}
	if missing := eval[[]string](s, unlabelled("#context")); len(missing) > 0 {
		t.Errorf("workspace picker fields without a label: %v", missing)
	}
}

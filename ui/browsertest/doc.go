// Package browsertest drives the web console in a real browser (Debian's chromium, headless, through
// github.com/chromedp/chromedp) as a person would use it. The tests are behind the build tag
// "browser" so that they run as their own `go test -tags browser ./ui/browsertest` invocation, outside
// -race; without chromium installed they skip and say how to install it.
package browsertest

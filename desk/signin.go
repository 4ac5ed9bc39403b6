package desk

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"yici/sync/uploader"
	"yici/sync/wire"
)

// signInForm asks for the clerk's staff number, PIN and window. The PIN is
// checked by the platform (slow hash, lockout); the desk keeps nothing of
// it once the request is sent.
type signInForm struct {
	content fyne.CanvasObject
	clerk   *widget.Entry
	pin     *widget.Entry
	window  *widget.Entry
	button  *widget.Button
	message *widget.Label
}

func newSignInForm(submit func(clerk, pin, window string)) *signInForm {
	f := &signInForm{clerk: widget.NewEntry(), pin: widget.NewPasswordEntry(), window: widget.NewEntry(), message: widget.NewLabel("")}
	f.clerk.SetPlaceHolder("工号 / staff number")
	f.pin.SetPlaceHolder("密码 / PIN")
	f.window.SetPlaceHolder("窗口号 / window, e.g. 3")
	f.message.Wrapping = fyne.TextWrapWord
	send := func() { submit(f.clerk.Text, f.pin.Text, f.window.Text) }
	f.button = widget.NewButton("登录 / Sign in", send)
	f.button.Importance = widget.HighImportance
	f.pin.OnSubmitted = func(string) { send() }
	form := widget.NewForm(
		widget.NewFormItem("工号", f.clerk),
		widget.NewFormItem("密码", f.pin),
		widget.NewFormItem("窗口", f.window))
	title := widget.NewLabelWithStyle("综合窗口 · 工作人员登录 / Clerk sign-in", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	box := container.NewVBox(title, form, f.button, f.message)
	f.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(460, box.MinSize().Height+60), box))
	return f
}

func (f *signInForm) busy(on bool) {
	if on {
		f.button.Disable()
		f.message.SetText("正在登录… / Signing in…")
		return
	}
	f.button.Enable()
}

func (f *signInForm) fail(msg string) {
	f.pin.SetText("")
	f.message.SetText(msg)
}

// clear forgets what was typed, once the clerk is in.
func (f *signInForm) clear() {
	f.pin.SetText("")
	f.message.SetText("")
}

// SignIn signs the clerk in at this desk with the platform, and shows the
// review screen; a refusal shows on the form. Call it off the UI thread.
func (d *Desk) SignIn(ctx context.Context, clerk, pin, window string) error {
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	fyne.DoAndWait(func() { d.signin.busy(true) })
	ans, err := d.p.SignIn(ctx, clerk, pin, window)
	var me wire.WhoAmI
	if err == nil {
		me, err = d.p.WhoAmI(ctx)
	}
	if err != nil {
		fyne.DoAndWait(func() {
			d.signin.busy(false)
			d.signin.fail(signInMessage(err))
		})
		return err
	}
	d.mu.Lock()
	d.signed, d.clerk, d.window, d.me, d.session = true, fmt.Sprintf("%s（%s）", ans.Name, ans.Clerk), ans.Window, me.Name, ans
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.signin.busy(false)
		d.signin.clear()
		d.who.SetText(fmt.Sprintf("%s · 窗口 %s", d.clerkName(), ans.Window))
		d.w.SetContent(d.review)
	})
	d.Refresh(ctx)
	return nil
}

// SignOut ends the clerk's session and returns to the sign-in form,
// forgetting the open case. Call it off the UI thread.
func (d *Desk) SignOut(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	err := d.p.SignOut(ctx)
	d.lock("")
	if err != nil {
		fyne.Do(func() {
			d.signin.fail("已退出；平台未确认会话结束（" + err.Error() + "），会话将按时失效")
		})
	}
}

// lock shows the sign-in form with msg and forgets what was on screen.
func (d *Desk) lock(msg string) {
	d.mu.Lock()
	d.signed, d.clerk, d.person = false, "", nil
	d.mu.Unlock()
	fyne.DoAndWait(func() {
		d.cases = nil
		d.personLabel.SetText("")
		d.in.reset()
		d.in.hide()
		d.q.forget()
		d.rv.clear()
		d.list.UnselectAll()
		d.list.Refresh()
		d.signin.fail(msg)
		d.w.SetContent(d.signin.content)
	})
}

func (d *Desk) clerkName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clerk
}

// SignedIn reports whether a clerk is signed in.
func (d *Desk) SignedIn() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signed
}

func signInMessage(err error) string {
	var se *uploader.StatusError
	if errors.As(err, &se) {
		switch se.Body.Code {
		case wire.CodeSignInFailed:
			return "工号或密码不对，请重试 / Staff number or PIN is wrong"
		case wire.CodeClerkLocked:
			return "密码错误次数过多，账号已暂时锁定，请稍后再试或联系管理员 / Locked after too many wrong PINs: " + se.Body.Message
		}
	}
	return "无法登录：" + err.Error()
}

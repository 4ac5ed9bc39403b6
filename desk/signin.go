package desk

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
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

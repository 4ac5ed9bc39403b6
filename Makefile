# Yici — make run (the demo hall) and make test (every test). Both install
# what is missing first; see README.md.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
# Fyne reads its locale from LANG at start and logs an error for "C".
export LANG := zh_CN.UTF-8
unexport LC_ALL

# Debian packages: Fyne's cgo build, a virtual display with screenshot
# tools, SANE's test scanner and poppler (tests render PDFs to PNG).
DEB := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
       libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth x11-utils xdotool imagemagick \
       sane-utils poppler-utils cups-client
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := bin
DATA ?= $(HOME)/.local/share/yici-demo

.PHONY: deps build run test bench soak screens clean

deps:
	@command -v go >/dev/null || { echo "deps: Go 1.26 is not installed: put it at /usr/local/go (Debian's golang-go is too old)"; exit 1; }
	@missing=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(DEB) 2>/dev/null | awk '$$NF!="installed"{print $$1}'; \
	  for p in $(DEB); do dpkg-query -W $$p >/dev/null 2>&1 || echo $$p; done | sort -u); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@go mod download

build: deps
	go build -o $(BIN)/ ./cmd/yici ./cmd/yici-devsim
	CGO_ENABLED=0 go build -o $(BIN)/ ./cmd/yici-platform

# The demo hall: embedded platform, simulated devices, the kiosk, desk and
# device windows. Without a display it runs under Xvfb and walks through a
# visit by itself, saving screenshots.
run: build
	@if [ -n "$$DISPLAY" ]; then \
	  $(BIN)/yici demo --data "$(DATA)"; \
	else \
	  echo "run: no DISPLAY, so the demo runs under a virtual display (Xvfb) and plays a visit by itself;"; \
	  echo "run: screenshots go to $(DATA)/screens (open the PNGs; Ctrl-C stops the demo)"; \
	  xvfb-run -a -s "-screen 0 1920x1440x24" $(BIN)/yici demo --data "$(DATA)" --autoplay --shots "$(DATA)/screens"; \
	fi

# The UI packages run under the race detector: their tests drive Fyne
# widgets from several goroutines (the test driver runs fyne.Do inline).
# The rest runs without it, once.
RACE := ./terminal/... ./desk/...

test: deps
	go vet ./...
	go test -count=1 $$(go list ./... | grep -v -E '^yici/(terminal|desk)(/|$$)')
	go test -race -count=1 $(RACE)

# Each benchmark reports its figure beside a baseline measured in the same
# run (ratio metrics), never against a fixed time.
bench: deps
	go test -run '^$$' -bench . -benchtime 1s ./drivers/...
	go test -run '^$$' -bench Encode -benchtime 3x ./drivers/docscan
	go test -run '^$$' -bench . -benchtime 3x ./sync/catalog/search
	go test -run '^$$' -bench . -benchtime 300x ./sync/store
	go test -run '^$$' -bench 'UploadLink|UploadHeld' -benchtime 5x ./sync/uploader
	go test -run '^$$' -bench AuthzAudit -benchtime 3000x ./sync/platform
	go test -run '^$$' -bench PINHash -benchtime 30x ./sync/platform
	go test -run '^$$' -bench . -benchtime 3000x ./sync/platform/audit
	go test -run '^$$' -bench . -benchtime 50x ./desk

# The crash test at length: 1,000 SIGKILL rounds (make test runs 50).
soak: deps
	YICI_SOAK_ROUNDS=1000 go test -count=1 -v -run '^TestCrashSoak$$' -timeout 3h ./sync/uploader

# Refresh docs/screens from a real window under Xvfb and the simulated printer.
screens: build
	YICI_SCREENS=$(CURDIR)/docs/screens go test -count=1 -run 'TestRealWindow|TestPrintReceipt|TestSimulated|TestDocuments' ./cmd/yici ./drivers/printer ./drivers/printer/a4 ./drivers/docscan

clean:
	rm -rf $(BIN)

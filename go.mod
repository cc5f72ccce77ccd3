module gemu

go 1.26.0

require (
	github.com/ebitengine/oto/v3 v3.4.0
	github.com/google/go-cmp v0.7.0
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.49.0
)

require github.com/ebitengine/purego v0.9.0 // indirect

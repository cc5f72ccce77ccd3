module gemu

go 1.26.0

require golang.org/x/sys v0.49.0

require (
	github.com/ebitengine/oto/v3 v3.4.0 // indirect
	github.com/ebitengine/purego v0.9.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
)

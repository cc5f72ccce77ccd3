# Convenience targets; the authoritative commands are in README.md.
#   make run     run the embedded demo guest
#   make test    install dependencies and run every test (tests/ci.sh)
#   make guests  rebuild the committed guest images (guests/Makefile)
#   make bench   print MIPS figures (tests/bench)

.PHONY: run test guests bench

run:
	./gemu.sh

test:
	tests/ci.sh

guests:
	$(MAKE) -C guests

bench:
	go run ./tests/bench

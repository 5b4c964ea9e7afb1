# contrib/: the Debian package, the Prometheus rules and the Ansible
# playbook, each with its suite in `make check`.

.PHONY: deb check-deb check-prom check-ansible

# The package, built from a clean copy of the tree under build/deb and
# checked with lintian.
deb:
	@sh scripts/deb.sh build/deb

# Each exits 77 (skipped, with one line) when it cannot run here: not
# root, or a tool missing.  suite.sh counts that as skipped, make would
# count it as failed, so `make check` calls the commands directly.
DEB_RUN     = sh test/pkg/test_deb.sh
PROM_RUN    = env KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) python3 test/prom/test_prom.py
ANSIBLE_RUN = env KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) python3 test/ansible/test_playbook.py

check-deb:
	@$(DEB_RUN)
check-prom: $(BIN) $(SIM)
	@$(PROM_RUN)
check-ansible: $(BIN) $(SIM)
	@$(ANSIBLE_RUN)

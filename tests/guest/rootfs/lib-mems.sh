# Sourced by the guest scripts that fork a task onto a node the RMC
# driver just added (not a test of its own).
#
# A task forked while the kernel adds a node to the tasks' allowed nodes
# can miss it for good (the cpuset update walks the tasks there are):
# numa-touch is forked once this shell has the node, 30 s at most.
mems_have() {    # mems_have NODE: this shell may allocate on NODE
    list=$(sed -n 's/^Mems_allowed_list:[[:space:]]*//p' "/proc/$$/status")
    for r in $(echo "$list" | tr ',' ' '); do
        [ "$1" -ge "${r%-*}" ] && [ "$1" -le "${r#*-}" ] && return 0
    done
    return 1
}
wait_mems() {    # wait_mems NODE
    w=0
    until mems_have "$1"; do
        [ $w -lt 300 ] || return 1
        sleep 0.1
        w=$((w + 1))
    done
}

# Exercise 5.2: print two lines,
#   identical: yes      (or no: is the BTF of the object file the BTF of the loaded program?)
#   types: N            (how many types the loaded program's BTF has)
# The check sets $OBJECT and $PROG_ID, as the program prints them, and runs this with sh.
# Work them out with bpftool, then print the answers (or the commands that find them).
echo "identical: TODO"
echo "types: TODO"

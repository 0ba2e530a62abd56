// SPDX-License-Identifier: Apache-2.0
// An empty C program: what exec and the dynamic loader cost for C alone, beside Rust's empty
// programs in the load-latency case's table of start-up costs.
int main(void)
{
	return 0;
}

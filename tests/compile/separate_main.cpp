// goro_separate_link: separate_tu.cpp's program, linked with goro::runtime.
// Exit code 0 iff separate_tu_main computed what it should.
int separate_tu_main();

int main() { return separate_tu_main(); }

#pragma once
// OpenGL 3.3 core entry points. Mesa's libGL (glvnd) exports every core function, so the
// prototypes are linked directly and no loader library is needed.
#define GL_GLEXT_PROTOTYPES 1
#include <GL/gl.h>
#include <GL/glext.h>

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *total(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "expected a sequence");
    if (seq == NULL) return NULL;
    long long sum = 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) { Py_DECREF(seq); return NULL; }
        sum += v;
    }
    Py_DECREF(seq);
    return PyLong_FromLongLong(sum);
}

static PyMethodDef methods[] = {{"total", total, METH_O, "Sum of a sequence of ints."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }

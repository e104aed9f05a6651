// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call; these typed wrappers can be.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

typedef size_t (*hub_curl_data_callback)(char *data, size_t size, size_t count, void *user);

static inline CURLcode hub_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hub_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hub_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hub_curl_set_callback(CURL *handle, CURLoption option, hub_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode hub_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode hub_curl_multi_set_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

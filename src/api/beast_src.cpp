// The compiled bodies of Boost.Asio, Asio's SSL support and Boost.Beast, built once here because
// the library is compiled with BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION. Nothing else belongs in this file.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
